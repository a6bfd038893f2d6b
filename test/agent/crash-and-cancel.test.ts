// The agent run's failure paths on the real dev server with the real CLI: a worker killed in the
// middle of a run (the next worker kills the leftover CLI and resumes the same session), a
// cancellation (the CLI's whole process group dies), and an exhausted budget (the item blocks
// until a top-up).
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { ARTIFACT_CONTRACT, workItemDocsDir } from '../../src/domain';
import type { TurnInfo } from '../../src/dev/scripted-model/pipeline-script';
import { cancelUpdate, stateQuery, topUpBudgetUpdate } from '../../src/workflows/messages';
import { runningSteps } from '../../src/client/running-steps';
import { renderState } from '../../src/cli/format';
import { AGENT_TIMEOUTS, originFile, originLog, startAgentRig, type AgentRig } from '../support/agent-harness';
import { alive, deferred, pidsWithArg, spawnLogged, type Spawned } from '../support/processes';
import { startTemporal } from '../support/temporal';
import { startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(300_000);

const WORKER = path.resolve(__dirname, '../../dist/worker/main.js');

let env: TestWorkflowEnvironment;
const rigs: AgentRig[] = [];
const releases: (() => void)[] = [];
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  for (const release of releases) release();
  for (const rig of rigs) await rig.close();
  await env?.teardown();
});

/** A scenario that holds one turn of one role, the first time it is asked for. */
function holdTurn(role: TurnInfo['role'], turnIndex: number) {
  const reached = deferred<TurnInfo>();
  const release = deferred();
  releases.push(() => release.resolve());
  let held = false;
  return {
    reached: reached.promise,
    release: () => release.resolve(),
    beforeTurn: async (info: TurnInfo) => {
      if (held || info.role !== role || info.turnIndex !== turnIndex) return;
      held = true;
      reached.resolve(info);
      await release.promise;
    },
  };
}

function startWorkerProcess(rig: AgentRig, queue: string, extra: Record<string, string> = {}): Spawned {
  return spawnLogged(process.execPath, [WORKER], {
    PATH: process.env.PATH,
    ...rig.env,
    TEMPORAL_ADDRESS: env.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_LOG_LEVEL: 'info',
    ...extra,
  });
}

test('a worker replaced gracefully (self-hosting upgrade) lets the running agent step finish; the new worker goes on', async () => {
  const hold = holdTurn('analyst', 2);
  const rig = await startAgentRig({ beforeTurn: hold.beforeTurn });
  rigs.push(rig);
  const queue = taskQueue('agent-upgrade');
  const input = testInput({ timeouts: AGENT_TIMEOUTS });
  const old = startWorkerProcess(rig, queue, { ORCH_WORKER_SHUTDOWN_GRACE_MS: '60000' });
  let replacement: Spawned | undefined;
  try {
    const handle = await startItem(env, queue, input);
    const info = await hold.reached;
    // The procedure of docs/operations/deploys.md: the new worker first, then SIGTERM the old one.
    replacement = startWorkerProcess(rig, queue);
    await replacement.waitFor(/worker polling/, 60_000);
    old.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    // The step in flight carries on while the old worker drains.
    hold.release();
    expect(await old.exited()).toBe(0);

    const state = await waitForState(handle, (s) => s.stage !== 'analysis' && s.stage !== 'created', 120_000);
    expect(state.stage).toBe('architecture');
    // Never interrupted: the analysis ran once, in one session, without a resume.
    expect(state.sessions.analysis).toBe(info.sessionId);
    expect(
      rig.model.requests
        .filter((r) => /interrupted because the worker running it stopped/.test(r.userText))
        .map((r) => r.sessionHeader),
    ).toEqual([]);
    expect(old.output()).toContain('agent run ended');
    expect(originLog(rig.repo, state.branch).filter((s) => s.includes('analysis'))).toEqual([
      `docs(${input.ticket}): analysis by the analyst agent`,
    ]);
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'done testing' }] });
  } finally {
    old.child.kill('SIGKILL');
    replacement?.child.kill('SIGTERM');
    await replacement?.exited();
  }
});

test('a worker killed mid-run takes its agent with it (sandbox); the next worker resumes the same session, with one commit', async () => {
  const hold = holdTurn('analyst', 2);
  const rig = await startAgentRig({ beforeTurn: hold.beforeTurn });
  rigs.push(rig);
  const queue = taskQueue('agent-crash');
  const input = testInput({ timeouts: AGENT_TIMEOUTS });
  const first = startWorkerProcess(rig, queue);
  let second: Spawned | undefined;
  try {
    const handle = await startItem(env, queue, input);
    const info = await hold.reached;
    const sessionId = info.sessionId as string;
    const cliPids = pidsWithArg(sessionId);
    expect(cliPids.length).toBeGreaterThan(0);

    first.child.kill('SIGKILL');
    await first.exited();
    // The sandbox dies with its parent: no agent process outlives the worker.
    await waitUntil(() => !cliPids.some(alive), 10_000);
    expect(cliPids.filter(alive).map((pid) => `${pid}: ${cmdline(pid)}`)).toEqual([]);

    second = startWorkerProcess(rig, queue);
    const state = await waitForState(handle, (s) => s.stage !== 'analysis' && s.stage !== 'created', 120_000);

    const leftovers = cliPids.filter(alive).map((pid) => `${pid}: ${cmdline(pid)}`);
    expect({ leftovers, worker: leftovers.length ? second.output() : '' }).toEqual({ leftovers: [], worker: '' });
    expect(state.sessions.analysis).toBe(sessionId);
    const resumed = rig.model.requests.filter(
      (r) => r.sessionHeader === sessionId && /interrupted because the worker running it stopped/.test(r.userText),
    );
    expect(resumed.length).toBeGreaterThan(0);
    // The resumed session picks up the write the crash interrupted; nothing is written twice.
    const writes =
      rig.model.requests
        .filter((r) => r.sessionHeader === sessionId)
        .at(-1)
        ?.toolCallsMade.filter((c) => c.startsWith('["Write"')) ?? [];
    expect(writes).toHaveLength(ARTIFACT_CONTRACT.analysis.length);

    const analysisCommits = originLog(rig.repo, state.branch).filter((s) => s.includes('analysis'));
    expect(analysisCommits).toEqual([`docs(${input.ticket}): analysis by the analyst agent`]);
    for (const spec of ARTIFACT_CONTRACT.analysis) {
      expect(originFile(rig.repo, state.branch, `${workItemDocsDir(input.ticket)}/${spec.path}`)).toBeDefined();
    }
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'done testing' }] });
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGTERM');
    await second?.exited();
  }
});

test('cancelling an item during a run kills the CLI and everything it started', async () => {
  const hold = holdTurn('developer', 3);
  // The developer starts a long-running process in the background, as a dev server would be.
  // The sandbox's /tmp and pids are its own: the test finds it by its unusual command line.
  const marker = String(600 + Math.floor(Math.random() * 300));
  const rig = await startAgentRig({
    beforeTurn: hold.beforeTurn,
    developerCommands: [`nohup sleep ${marker}.5 > /dev/null 2>&1 & echo started`],
  });
  rigs.push(rig);
  const queue = taskQueue('agent-cancel');
  const input = testInput({ timeouts: AGENT_TIMEOUTS });
  await withWorker(env, queue, createActivities(rig.config, {}), async () => {
    const handle = await startItem(env, queue, input);
    const info = await hold.reached;
    const cliPids = pidsWithArg(info.sessionId as string);
    expect(cliPids.length).toBeGreaterThan(0);
    const [grandchild] = pidsWithArg(`${marker}.5`);
    expect(grandchild !== undefined && alive(grandchild)).toBe(true);
    // `orch status` shows the running step from its heartbeat, sandbox included.
    const running = await runningSteps(env.client, 'shop', input.ticket);
    expect(running).toEqual([
      expect.objectContaining({
        activity: 'runAgent',
        attempt: 1,
        details: expect.objectContaining({ sandbox: 'bwrap' }),
      }),
    ]);
    expect(renderState(await handle.query(stateQuery), running)).toMatch(
      /running {3}runAgent \(attempt 1\), \w+[\s\S]*sandbox {3}bwrap/,
    );
    // Once it has streamed, the watch's counters are there too.
    let progress = '';
    for (let i = 0; i < 100 && !progress.includes('progress'); i++) {
      progress = renderState(await handle.query(stateQuery), await runningSteps(env.client, 'shop', input.ticket));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(progress).toMatch(
      /agent {5}last event: tool \w+ \(\d+ s ago\)\n {2}progress {2}\d+ turns, \d+ tool calls; stalls 0, same call 1x in a row, \d+ turns without a file change/,
    );

    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'no longer wanted' }] });
    const state = await waitForState(handle, (s) => s.status === 'cancelled');
    expect(state.stage).toBe('development');
    expect(cliPids.filter(alive)).toEqual([]);
    expect(alive(grandchild as number)).toBe(false);
    expect(pidsWithArg(info.sessionId as string)).toEqual([]);
  });
});

test('an exhausted budget blocks the item with that reason; a top-up lets it go on', async () => {
  const rig = await startAgentRig();
  rigs.push(rig);
  const queue = taskQueue('agent-budget');
  // Less than the analyst's scripted run costs: the CLI stops at its dollar cap.
  const input = testInput({ timeouts: AGENT_TIMEOUTS, budgetUsd: 0.002 });
  await withWorker(env, queue, createActivities(rig.config, {}), async () => {
    const handle = await startItem(env, queue, input);
    const blocked = await waitForState(handle, (s) => s.status === 'blocked', 120_000);
    expect(blocked.stage).toBe('analysis');
    expect(blocked.blocked?.kind).toBe('budget');
    expect(blocked.blocked?.reason).toMatch(
      /^the agent reached its dollar cap \(Reached maximum budget \(\$0\.002\d*\)\); budget exhausted: spent \$0\.00 of \$0\.00; top up the budget to continue$/,
    );
    expect(blocked.costUsd).toBeGreaterThan(0.002);

    await handle.executeUpdate(topUpBudgetUpdate, { args: [{ by: 'test', amountUsd: 1, reason: 'demo' }] });
    const after = await waitForState(handle, (s) => s.stage === 'architecture' || s.status === 'blocked', 120_000);
    expect({ stage: after.stage, blocked: after.blocked?.reason }).toEqual({
      stage: 'architecture',
      blocked: undefined,
    });
    expect(after.budgetUsd).toBeCloseTo(1.002, 6);
    expect(after.costUsd).toBeGreaterThan(blocked.costUsd);
    expect(after.overrides.at(-1)).toMatchObject({ kind: 'top-up', by: 'test', amountUsd: 1 });
    await handle.executeUpdate(cancelUpdate, { args: [{ by: 'test' }] });
  });
});

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 200);
  } catch {
    return '(gone)';
  }
}
