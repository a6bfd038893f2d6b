// Agent runs that never hang, with the real CLI, the scripted model and the real dev server: a
// model that stops answering mid-stream is a stall (the run is stopped, resumed and completes;
// two stalls block the item with the last events); the same call over and over is a loop that
// sends the work back with the call quoted; a CLI that exits with only a stderr line is retried a
// bounded number of times and then blocks with that line; a slow model that keeps streaming is
// not a stall.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { readTaskMarkers, type PipelineScenario } from '../../src/dev/scripted-model/pipeline-script';
import type { ModelRequest, ModelScript } from '../../src/dev/scripted-model/server';
import { cancelUpdate } from '../../src/workflows/messages';
import { AGENT_TIMEOUTS, startAgentRig, type AgentRig, type RigOptions } from '../support/agent-harness';
import { alive, pidsWithArg } from '../support/processes';
import { startTemporal } from '../support/temporal';
import {
  startItem,
  taskQueue,
  testInput,
  testRouting,
  waitForState,
  withWorker,
  type WorkItemHandle,
} from '../support/work-item-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
const rigs: AgentRig[] = [];
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  for (const rig of rigs) await rig.close();
  await env?.teardown();
});

// Short, so stalls are found quickly, yet well above the CLI's own start (bubblewrap, relay and
// Claude Code loading, before its first stream event), which takes over 1.5 s on a busy CI host.
const STALL_MS = 3000;
const isRole = (request: ModelRequest, role: string): boolean => readTaskMarkers(request.userText)?.role === role;

async function withItem(
  name: string,
  options: RigOptions,
  fn: (handle: WorkItemHandle, rig: AgentRig) => Promise<void>,
  scenario: PipelineScenario = {},
): Promise<void> {
  const rig = await startAgentRig(scenario, {
    ...options,
    projectYaml: `    agents:\n      stallMs: ${STALL_MS}\n${options.projectYaml ?? ''}`,
  });
  rigs.push(rig);
  const queue = taskQueue(name);
  await withWorker(env, queue, createActivities(rig.config, {}), async () => {
    // Routed as new items are (ADR-0023): the first attempt on the pool's queue, retries on the
    // host's own queue as new activities, so a stall's count and the session cross activities.
    const handle = await startItem(env, queue, testInput({ timeouts: AGENT_TIMEOUTS, hosts: testRouting(queue) }));
    try {
      await fn(handle, rig);
    } finally {
      await handle
        .executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'done testing' }] })
        .catch(() => undefined);
    }
  });
}

/** The developer's answer after its first tool call hangs mid-stream, the first `times` times. */
function hangDeveloper(times: number, hungPids: number[][]): (pipeline: ModelScript) => ModelScript {
  let hung = 0;
  return (pipeline) => (request) => {
    if (isRole(request, 'developer') && request.toolCallsMade.length === 1 && hung < times) {
      hung += 1;
      // The CLI and everything of its session, as they are while it hangs.
      setTimeout(() => hungPids.push(pidsWithArg(request.sessionHeader as string)), 300);
      return { hang: true };
    }
    return pipeline(request);
  };
}

test('a stalled stream is stopped, its processes gone, and the retry resumes the same session to completion', async () => {
  const hungPids: number[][] = [];
  await withItem('stall-once', { wrapScript: hangDeveloper(1, hungPids) }, async (handle, rig) => {
    const state = await waitForState(handle, (s) => s.stage === 'review' || s.status !== 'active', 120_000);
    expect({ stage: state.stage, blocked: state.blocked?.reason }).toEqual({ stage: 'review', blocked: undefined });
    expect(hungPids[0]?.length).toBeGreaterThan(0);
    expect(hungPids[0]?.filter(alive)).toEqual([]);
    const developer = rig.model.requests.filter((r) => isRole(r, 'developer') || /made no progress/.test(r.userText));
    const sessions = new Set(developer.map((r) => r.sessionHeader));
    expect(sessions.size).toBe(1);
    expect(rig.model.requests.some((r) => /stopped because it made no progress \(stalled after/.test(r.userText))).toBe(
      true,
    );
    // The stalled first attempt ran from the pool's queue; its retry, a new activity, went to the
    // host that held the checkout and the session.
    const developerQueues = (await handle.fetchHistory()).events
      ?.map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'runAgent' && (a.input?.payloads?.[0]?.data?.length ?? 0) > 0)
      .filter((a) => /"role":"developer"/.test(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')))
      .map((a) => a!.taskQueue?.name);
    expect(developerQueues).toEqual([expect.stringMatching(/-agents$/), expect.stringMatching(/@test-host-\d+$/)]);
    const stall = state.events.find((e) => e.type === 'agent.developer');
    expect(stall?.summary).toMatch(
      new RegExp(
        `^stalled after .*: no stream event for \\d+ s \\(agents\\.stallMs ${STALL_MS}\\); last events: .* \\(attempt 1\\)$`,
      ),
    );
  });
});

test('two stalls in one stage block the item with the last events', async () => {
  await withItem('stall-twice', { wrapScript: hangDeveloper(99, []) }, async (handle) => {
    const state = await waitForState(handle, (s) => s.status === 'blocked', 120_000);
    expect(state.stage).toBe('development');
    expect(state.blocked?.kind).toBe('needs-person');
    expect(state.blocked?.reason).toMatch(
      /^the developer agent stalled 2 times in stage development \(agents\.maxStalls 2\): stalled after tool result: .*; last events: session started → tool Write → tool result \(attempt 1\) \| stalled after session started: .* \(attempt 2\)$/,
    );
  });
});

test('the same call six times is a loop: the run ends, the finding quotes it, and the next developer input carries it', async () => {
  let looped = 0;
  const loop: RigOptions['wrapScript'] = (pipeline) => (request) => {
    const task = readTaskMarkers(request.userText);
    if (task?.role === 'developer' && !/asked for the same tool call/.test(request.userText)) {
      looped += 1;
      return { tool: 'Bash', input: { command: 'git status --short', description: 'check again' } };
    }
    return pipeline(request);
  };
  await withItem('loop', { wrapScript: loop }, async (handle, rig) => {
    const state = await waitForState(handle, (s) => s.stage === 'review' || s.status !== 'active', 120_000);
    expect({ stage: state.stage, blocked: state.blocked?.reason }).toEqual({ stage: 'review', blocked: undefined });
    // Stopped at the 5th identical call; the CLI may already have asked for one more turn by then.
    expect(looped).toBeGreaterThanOrEqual(5);
    expect(looped).toBeLessThanOrEqual(6);
    expect(state.gateRetries).toBe(1);
    const finding =
      'The developer agent asked for the same tool call 5 times in a row and was stopped (agents.maxRepeats 5). The repeated call: Bash {"command":"git status --short","description":"check again"}';
    expect(state.history.map((v) => v.outcome)).toContain('the developer run ended in a loop: sent to development');
    // The second developer run got the finding verbatim in its task.
    expect(rig.model.requests.some((r) => isRole(r, 'developer') && r.userText.includes(finding))).toBe(true);
  });
});

test('a CLI that exits 1 with only a stderr line: retried a bounded number of times, then blocked quoting it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-silent-'));
  const fake = path.join(dir, 'claude');
  // Runs inside the sandbox like the real CLI: it can write only its checkout.
  fs.writeFileSync(
    fake,
    '#!/bin/sh\necho run >> .fake-claude-runs\necho "fatal: the frobnicator lost its socket (code 0xDEAD)" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  await withItem('silent-exit', { env: { ORCH_CLAUDE_BIN: fake } }, async (handle, rig) => {
    const state = await waitForState(handle, (s) => s.status === 'blocked', 120_000);
    expect(state.stage).toBe('analysis');
    expect(state.blocked?.reason).toContain(
      'the Claude Code CLI failed (exit code 1, no result event); stderr: fatal: the frobnicator lost its socket (code 0xDEAD)',
    );
    const runs = fs
      .readFileSync(path.join(rig.config.dataDir, 'workspaces', 'shop', state.ticket, '.fake-claude-runs'), 'utf8')
      .trim()
      .split('\n');
    expect(runs).toHaveLength(AGENT_TIMEOUTS.retryMaximumAttempts);
  });
});

test('a slow model that keeps streaming (an event every 500 ms for 5 s, longer than stallMs) is not a stall', async () => {
  const slow: RigOptions['wrapScript'] = (pipeline) => async (request) => {
    const turn = await pipeline(request);
    return isRole(request, 'analyst') && 'text' in turn
      ? { text: 'Analysis written, slowly. '.repeat(4), chunks: 10, delayMs: 500 }
      : turn;
  };
  await withItem('slow', { wrapScript: slow, projectYaml: '      maxMinutes: { analyst: 5 }\n' }, async (handle) => {
    // stallMs of this rig is 3 s; the analyst streams for 5 s.
    const state = await waitForState(handle, (s) => s.stage === 'architecture' || s.status !== 'active', 120_000);
    expect({ stage: state.stage, blocked: state.blocked?.reason }).toEqual({
      stage: 'architecture',
      blocked: undefined,
    });
    expect(state.events.filter((e) => e.type.startsWith('agent.'))).toEqual([]);
  });
});

test('a tool that keeps the CPU busy past stallMs (a long test run streams nothing) is not a stall', async () => {
  const busy = `node -e "const t = Date.now(); while (Date.now() - t < 9000) {}" && echo done`;
  await withItem(
    'busy-tool',
    {},
    async (handle) => {
      const state = await waitForState(handle, (s) => s.stage === 'review' || s.status !== 'active', 120_000);
      expect({ stage: state.stage, blocked: state.blocked?.reason }).toEqual({ stage: 'review', blocked: undefined });
      expect(state.events.filter((e) => e.type.startsWith('agent.'))).toEqual([]);
    },
    { developerCommands: [busy] },
  );
});
