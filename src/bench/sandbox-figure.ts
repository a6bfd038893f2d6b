// The sandbox's cost per agent run: the same CLI run (the scripted model asks for one Bash call,
// then ends) through the runner with the sandbox, and without it. Both pay the same CLI start,
// model turns and process clean-up, so the difference is the sandbox: bubblewrap, the relay,
// the egress proxy and the cgroup.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../activities/agent/cli-process';
import { claudeArgs } from '../activities/agent/command';
import { agentBenchConfig } from './agent-bench-config';
import { ROLE_PERMISSIONS } from '../domain';
import { startScriptedModelServer } from '../dev/scripted-model/server';
import { nameBasedUuid } from '../activities/agent/session';
import { compare, interleaved } from './stats';
import { compared, type Figure } from './figure';

export async function sandboxFigure(rounds: number): Promise<Figure> {
  const model = await startScriptedModelServer(({ turnIndex }) =>
    turnIndex === 0
      ? { tool: 'Bash', input: { command: 'echo bench > out.txt && git status --short', description: 'one call' } }
      : { text: 'done' },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-sandbox-'));
  const config = agentBenchConfig(dir, model.url);
  const bench = config.projects.bench?.agents;
  if (!bench) throw new Error('bench project missing');
  const settings = bench.sandbox;
  let n = 0;
  const once = async (sandboxed: boolean): Promise<number> => {
    n += 1;
    const workspace = path.join(dir, `ws-${n}`);
    execFileSync('git', ['init', '-q', workspace]);
    const sessionId = nameBasedUuid(`bench-${n}`);
    const started = process.hrtime.bigint();
    const run = await runCli({
      config,
      home: path.join(dir, `home-${n}`),
      sessionId,
      cwd: workspace,
      args: claudeArgs({
        rolePrompt: 'You are a benchmark.',
        session: { mode: 'new', id: sessionId },
        permissions: ROLE_PERMISSIONS.developer,
        model: 'claude-scripted',
        maxBudgetUsd: 1,
      }),
      prompt: 'Run the one command.',
      signal: new AbortController().signal,
      sandbox: sandboxed ? { settings, onDenied: () => undefined } : undefined,
      role: 'developer',
      maxMinutes: 5,
      watch: {
        stallMs: bench.stallMs,
        maxRepeats: bench.maxRepeats,
        maxTurnsWithoutChange: bench.maxTurnsWithoutChange,
      },
      onProgress: () => undefined,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.outcome.kind !== 'success' || !fs.existsSync(path.join(workspace, 'out.txt')))
      throw new Error(`bench run failed (${sandboxed ? 'sandboxed' : 'bare'}): ${JSON.stringify(run.outcome)}`);
    return ms;
  };
  try {
    const { a, b } = await interleaved(
      rounds,
      () => once(true),
      () => once(false),
    );
    const c = compare(a, b);
    return {
      name: 'agent run: sandboxed vs unsandboxed',
      unit: 'ms',
      ...compared(c),
      target: '<= 1.05x or +150 ms',
      met: c.paired.median <= 1.05 || c.extra <= 150,
      notes: `sandbox adds ${c.extra.toFixed(0)} ms per run (median of ${rounds} rounds' differences)`,
    };
  } finally {
    await model.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
