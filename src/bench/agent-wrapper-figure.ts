// What the runner adds to an agent run: the runAgent activity (a new item's first stage: clone,
// branch, the CLI, commit, push) against a script that does the same git work around a bare
// `claude -p` with the same arguments and prompt. Both run unsandboxed (the sandbox has its own figure) and
// against the same scripted model, so the ratio isolates the wrapper: workspace preparation, the
// run watch, the process-group clean-up, the secret-history check and the heartbeats.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { claudeArgs, claudeBinary, agentEnvironment } from '../activities/agent/command';
import { createAgentActivities } from '../activities/agent/run-agent';
import { buildTaskPrompt, loadRolePrompt } from '../activities/agent/prompt';
import { agentBenchConfig } from './agent-bench-config';
import { ROLE_PERMISSIONS, itemBranch, type StepInput, type StepResult } from '../domain';
import { startScriptedModelServer } from '../dev/scripted-model/server';
import { nameBasedUuid } from '../activities/agent/session';
import { compare, interleaved } from './stats';
import { compared, type Figure } from './figure';

const MODEL = 'claude-scripted';

/** The activity's log lines (unsandboxed warning, run summary) would bury the table. */
const SILENT: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function agentWrapperFigure(rounds: number): Promise<Figure> {
  const model = await startScriptedModelServer(({ turnIndex }) =>
    turnIndex === 0
      ? { tool: 'Bash', input: { command: 'echo bench > out.txt', description: 'one call' } }
      : { text: 'done' },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-wrapper-'));
  const origin = path.join(dir, 'origin.git');
  seedOrigin(dir, origin);
  const config = agentBenchConfig(dir, model.url, {
    repository: origin,
    env: { ORCH_AGENT_MODEL: MODEL, ORCH_AGENT_SANDBOX: 'off' },
  });
  const { runAgent } = createAgentActivities({ config });
  const rolePrompt = loadRolePrompt('developer').text;
  let n = 0;

  const project = async (): Promise<number> => {
    n += 1;
    const input = stepInput(n);
    const started = process.hrtime.bigint();
    const result = (await new MockActivityEnvironment({ activityId: `bench-${n}` }, { logger: SILENT }).run(
      runAgent,
      input,
    )) as StepResult;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.stop || result.failed) throw new Error(`bench runAgent did not succeed: ${JSON.stringify(result)}`);
    assertPushed(origin, itemBranch(input.ticket, input.title));
    return ms;
  };

  const baseline = async (): Promise<number> => {
    n += 1;
    const branch = `bench-bare-${n}`;
    const checkout = path.join(dir, 'bare', String(n));
    const home = path.join(dir, 'bare-home', String(n));
    fs.mkdirSync(home, { recursive: true });
    const started = process.hrtime.bigint();
    await git(dir, 'clone', '--quiet', origin, checkout);
    await git(checkout, 'checkout', '--quiet', '-b', branch);
    const sessionId = nameBasedUuid(`bare-${n}`);
    const args = claudeArgs({
      rolePrompt,
      session: { mode: 'new', id: sessionId },
      permissions: ROLE_PERMISSIONS.developer,
      model: MODEL,
      maxBudgetUsd: 5,
    });
    // The prompt the runner would give this run: the CLI's input is the agent's, not the wrapper's cost.
    // The prompt the runner would give this run: the CLI's input is the agent's, not the wrapper's cost.
    const { role, stage, ...task } = stepInput(n);
    const prompt = buildTaskPrompt({ ...task, role: role!, stage, workspace: checkout, branch, earlierArtifacts: [] });
    await runToEnd(claudeBinary(config.env), args, checkout, agentEnvironment(config.env, home), prompt);
    await git(checkout, 'add', '--all');
    await git(checkout, 'commit', '--quiet', '-m', 'bench');
    await git(checkout, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assertPushed(origin, branch);
    return ms;
  };

  try {
    const { a, b } = await interleaved(rounds, project, baseline);
    const c = compare(a, b);
    return {
      name: 'agent run: runAgent vs bare CLI + same git work',
      unit: 'ms',
      ...compared(c),
      target: '<= 1.05x',
      met: c.paired.median <= 1.05,
      notes: `the wrapper adds ${c.extra.toFixed(0)} ms per run (median of ${rounds} rounds' differences)`,
    };
  } finally {
    await model.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The bench's run `n`: a new item's development stage. */
function stepInput(n: number): StepInput {
  return {
    project: 'bench',
    ticket: `BENCH-${n}`,
    title: 'bench run',
    description: 'Write out.txt.',
    stage: 'development',
    role: 'developer',
    attempt: 1,
    findings: [],
    remainingBudgetUsd: 5,
  };
}

function seedOrigin(dir: string, origin: string): void {
  const seed = path.join(dir, 'seed');
  execFileSync('git', ['init', '-q', '-b', 'main', seed]);
  fs.writeFileSync(path.join(seed, 'README.md'), '# bench\n');
  execFileSync('git', ['-C', seed, 'add', '.']);
  execFileSync('git', [
    '-C',
    seed,
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@localhost',
    'commit',
    '-qm',
    'seed',
  ]);
  execFileSync('git', ['clone', '-q', '--bare', seed, origin]);
}

function assertPushed(origin: string, branch: string): void {
  const files = execFileSync('git', ['--git-dir', origin, 'ls-tree', '--name-only', `refs/heads/${branch}`], {
    encoding: 'utf8',
  });
  if (!files.split('\n').includes('out.txt')) throw new Error(`bench: ${branch} on origin lacks the agent's out.txt`);
}

function git(cwd: string, ...args: string[]): Promise<void> {
  return runToEnd('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], cwd, process.env);
}

/** Runs a program to its end, its output drained; rejects on a non-zero exit. */
function runToEnd(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout?.resume();
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.stdin) {
      // A program that ends before reading all of its input closes the pipe (EPIPE): its exit
      // code says whether it worked, not the write.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited ${code}: ${stderr.slice(-300)}`)),
    );
  });
}
