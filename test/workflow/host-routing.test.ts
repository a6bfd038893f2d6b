// Host-bound work runs first straight from its pool's queue, whose pollers only poll with a free
// host slot, and is retried on the host that ran it (ADR-0021, ADR-0023): runs wait in Temporal's
// queue, not in a worker; a host that stops taking work loses the run to another host, which is
// told what the lost run did. Real dev server, in-process workers.
import { heartbeat, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { HostRouting, StepInput, WorkItemActivities, WorkItemInput } from '../../src/domain';
import { renderState } from '../../src/cli/format';
import { createHostWorkers, type HostWorkers } from '../../src/worker/host-workers';
import { scriptedActivities } from '../support/doubles';
import { startTemporal, workflowBundle } from '../support/temporal';
import {
  FAST_TIMEOUTS,
  recordHistory,
  startItem,
  taskQueue,
  testInput,
  waitForState,
} from '../support/work-item-harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

function routing(main: string, hostStartMs = 60_000): HostRouting {
  return { agentQueue: `${main}-agents`, buildQueue: `${main}-builds`, hostStartMs };
}

function routedInput(main: string, hosts: HostRouting, overrides: Partial<WorkItemInput> = {}): WorkItemInput {
  return testInput({ hosts, priority: { fairnessKey: 'shop' }, ...overrides });
}

async function mainWorker(queue: string, activities: WorkItemActivities): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: workflowBundle(),
    activities,
  });
}

function hostWorkers(
  main: string,
  hosts: HostRouting,
  host: string,
  activities: WorkItemActivities,
  agents = 1,
): Promise<HostWorkers> {
  return createHostWorkers({
    connection: env.nativeConnection,
    namespace: 'default',
    mainQueue: main,
    routing: hosts,
    host,
    pools: { agents, builds: 2 },
    activities,
    shutdownGraceTimeMs: 0,
  });
}

async function activityBacklog(queue: string): Promise<number> {
  const answer = await env.client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
  });
  return Number(answer.stats?.approximateBacklogCount ?? 0);
}

async function until(
  check: () => Promise<boolean> | boolean,
  what: string | (() => Promise<string> | string),
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : await what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("with one agent slot and five items, one run holds the slot and four runs wait in Temporal's queue", async () => {
  const main = taskQueue('hosts-slots');
  const hosts = routing(main);
  let running = 0;
  let most = 0;
  let open = false;
  const scripted = scriptedActivities({
    step: async (input) => {
      if (input.role === 'developer') {
        running += 1;
        most = Math.max(most, running);
        // Runs wait here until the test has seen the queue; they heartbeat meanwhile.
        while (!open && !Context.current().cancellationSignal.aborted) {
          heartbeat();
          await new Promise((r) => setTimeout(r, 50));
        }
        running -= 1;
      }
      return { costUsd: 0.1 };
    },
  });
  const host = await hostWorkers(main, hosts, 'host-a', scripted.activities);
  const worker = await mainWorker(main, scripted.activities);
  const inputs = Array.from({ length: 5 }, () => routedInput(main, hosts));
  await worker.runUntil(async () => {
    const hostRun = Promise.all(host.workers.map((w) => w.run()));
    try {
      const handles = await Promise.all(inputs.map((input) => startItem(env, main, input)));
      await until(
        async () => running === 1 && (await activityBacklog(hosts.agentQueue)) === 4,
        '1 run and 4 waiting in the queue',
      );
      // The worker holds one slot (the running run); the four others are Temporal's backlog.
      expect(host.slots.agents?.use()).toMatchObject({ capacity: 1, running: 1, held: 0 });
      open = true;
      for (const handle of handles) await waitForState(handle, (s) => s.status === 'done', 60_000);
      expect(most).toBe(1);
      // Each run was taken straight from the pool's queue (no claim first), in a session the
      // workflow chose, so that a retry on the host's own queue would resume it.
      const developerRuns = scripted.stepCalls.filter((c) => c.role === 'developer');
      expect(developerRuns).toHaveLength(5);
      for (const call of developerRuns) {
        expect(call.hostSlot).toBeUndefined();
        expect(call.runSession).toMatch(/^[0-9a-f-]{36}$/);
        expect(call.priorAttempts).toBe(0);
      }
      expect(new Set(developerRuns.map((c) => c.runSession)).size).toBe(5);
      const state = await waitForState(handles[0]!, (s) => s.status === 'done');
      expect(state.hostQueues).toEqual([host.hostQueue]);
      await recordHistory(env, handles[0]!, 'host-routed');
    } finally {
      for (const w of host.workers) w.shutdown();
      await hostRun;
    }
  });
  // Done items had their checkout removed on the host that held it.
  expect(new Set(scripted.releasedWorkspaces)).toEqual(new Set(inputs.map((i) => i.ticket)));
});

test('a host that stops taking work loses its run to another host, which is told what the lost run did', async () => {
  const main = taskQueue('hosts-lost');
  const hosts = routing(main, 1_500);
  const onA: StepInput[] = [];
  const onB: StepInput[] = [];
  const base = scriptedActivities();
  const activitiesA: WorkItemActivities = {
    ...base.activities,
    runAgent: async (input) => {
      onA.push(input);
      // What a real run heartbeats: its last events and the files it changed.
      heartbeat({ recentEvents: ['tool Bash: npm test'], changedFiles: ['src/coupon.js'] });
      await new Promise((_resolve, reject) => Context.current().cancellationSignal.addEventListener('abort', reject));
      return { costUsd: 0 };
    },
  };
  const activitiesB: WorkItemActivities = {
    ...base.activities,
    runAgent: async (input) => {
      onB.push(input);
      return { costUsd: 0.1 };
    },
  };
  const a = await hostWorkers(main, hosts, 'host-a', activitiesA);
  const worker = await mainWorker(main, base.activities);
  const input = routedInput(main, hosts, { timeouts: { ...FAST_TIMEOUTS, retryMaximumAttempts: 3 } });
  await worker.runUntil(async () => {
    const runA = Promise.all(a.workers.map((w) => w.run()));
    const handle = await startItem(env, main, input);
    await until(() => onA.length === 1, 'the run on host A');
    await new Promise((r) => setTimeout(r, 300)); // its heartbeat reaches the server
    // Host A goes away with the run: its workers stop and nothing polls its queue any more.
    for (const w of a.workers) w.shutdown();
    await runA.catch(() => undefined);
    const b = await hostWorkers(main, hosts, 'host-b', activitiesB);
    const runB = Promise.all(b.workers.map((w) => w.run()));
    try {
      const state = await waitForState(handle, (s) => s.status === 'done', 60_000);
      expect(onB[0]?.stage).toBe('analysis');
      expect(onB[0]?.lostRun).toEqual({
        host: 'host-a',
        lastEvents: ['tool Bash: npm test'],
        changedFiles: ['src/coupon.js'],
        reason: 'host host-a took no task from its queue for 2 s',
      });
      expect(state.lostRuns).toEqual([
        expect.objectContaining({ stage: 'analysis', work: 'runAgent', host: 'host-a' }),
      ]);
      expect(state.events.some((e) => e.type === 'host.lost')).toBe(true);
      // `orch status` shows it.
      expect(renderState(state)).toMatch(/lost runs\n.*runAgent at analysis on host-a: host host-a took no task/);
      expect(state.hostQueues).toEqual([a.hostQueue, b.hostQueue]);
      await recordHistory(env, handle, 'host-lost');
    } finally {
      for (const w of b.workers) w.shutdown();
      await runB;
    }
  });
});

test('a failed first attempt is retried on the host that ran it, in the same session, not on the pool', async () => {
  const main = taskQueue('hosts-retry');
  const hosts = routing(main);
  const ran: { host: string; input: StepInput }[] = [];
  const failedOnce = new Set<string>();
  let handedOver = false;
  const base = scriptedActivities();
  const onHost = (host: string): WorkItemActivities => ({
    ...base.activities,
    runAgent: async (input) => {
      ran.push({ host, input });
      heartbeat({ recentEvents: [`tool Bash on ${host}`], changedFiles: [] });
      // Each stage's first attempt fails as a crashed CLI would (retryable), wherever it ran.
      if (!failedOnce.has(input.stage)) {
        failedOnce.add(input.stage);
        while (!handedOver) await new Promise((r) => setTimeout(r, 20));
        throw ApplicationFailure.create({ type: 'AgentRunFailed', message: `claude exited 1 on ${host}` });
      }
      return { costUsd: 0.1 };
    },
  });
  // One process registers one worker per queue: host A leaves the pools to host B (its own
  // queue stays served), so a retry sent to the pool would run on B.
  const a = await createHostWorkers({
    connection: env.nativeConnection,
    namespace: 'default',
    mainQueue: main,
    routing: hosts,
    host: 'host-a',
    pools: { agents: 1, builds: 1 },
    activities: onHost('host-a'),
    shutdownGraceTimeMs: 10_000,
  });
  const worker = await mainWorker(main, base.activities);
  const input = routedInput(main, hosts, { timeouts: { ...FAST_TIMEOUTS, retryMaximumAttempts: 3 } });
  await worker.runUntil(async () => {
    const aRuns = a.workers.map((w) => w.run());
    let bWorkers: Worker[] = [];
    let bRuns: Promise<void>[] = [];
    try {
      const handle = await startItem(env, main, input);
      await until(() => ran.length === 1, 'the first attempt on host A');
      const aPools = a.workers.slice(0, -1);
      handedOver = true;
      for (const w of aPools) w.shutdown();
      await Promise.all(aRuns.slice(0, -1));
      const b = await hostWorkers(main, hosts, 'host-b', onHost('host-b'));
      bWorkers = b.workers;
      bRuns = b.workers.map((w) => w.run());
      const state = await waitForState(handle, (s) => s.status === 'done', 60_000);
      expect(ran.slice(0, 2).map((r) => r.host)).toEqual(['host-a', 'host-a']);
      for (const stage of ['analysis', 'architecture', 'development', 'review', 'testing']) {
        const runs = ran.filter((r) => r.input.stage === stage);
        expect(runs.map((r) => r.input.priorAttempts)).toEqual([0, 1]);
        // The retry went to the first attempt's host and resumed its session.
        expect(runs[1]!.host).toBe(runs[0]!.host);
        expect(runs[1]!.input.runSession).toBe(runs[0]!.input.runSession);
      }
      expect(new Set(state.hostQueues)).toEqual(new Set([a.hostQueue, b.hostQueue]));
      expect(state.lostRuns ?? []).toEqual([]);
      await recordHistory(env, handle, 'host-retried');
    } finally {
      for (const w of [...a.workers.slice(-1), ...bWorkers]) w.shutdown();
      await Promise.all([...aRuns, ...bRuns]);
    }
  });
});

test("a burst in one project does not starve another: the small project's runs start within its fair share", async () => {
  const main = taskQueue('hosts-fair');
  const hosts = routing(main);
  const starts: { project: string; ticket: string; stage: string }[] = [];
  let open = false;
  const scripted = scriptedActivities({
    step: async (input) => {
      if (input.role) {
        starts.push({ project: input.project, ticket: input.ticket, stage: input.stage });
        // The first runs hold both slots until the whole backlog is queued.
        while (!open && !Context.current().cancellationSignal.aborted) {
          heartbeat();
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return { costUsd: 0 };
    },
  });
  // Two agent slots in all, on one host.
  const host = await hostWorkers(main, hosts, 'host-fair', scripted.activities, 2);
  const worker = await mainWorker(main, scripted.activities);
  // The first runs wait for the whole backlog: longer than the fast tests' agent timeout.
  const timeouts = { ...FAST_TIMEOUTS, agentMs: 120_000 };
  const burst = Array.from({ length: 40 }, () =>
    routedInput(main, hosts, { priority: { fairnessKey: 'big' }, timeouts }),
  );
  const small = Array.from({ length: 4 }, () =>
    routedInput(main, hosts, { project: 'tiny', priority: { fairnessKey: 'tiny' }, timeouts }),
  );
  /** Items whose agent run waits in the queue (scheduled, not taken by a host). */
  const waitingRuns = async () => {
    const described = await Promise.all(handles.map((h) => h.describe()));
    return described.filter((d) =>
      d.raw.pendingActivities?.some(
        (a) =>
          a.activityType?.name === 'runAgent' &&
          a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
      ),
    ).length;
  };
  const handles: Awaited<ReturnType<typeof startItem>>[] = [];
  await worker.runUntil(async () => {
    const hostRun = Promise.all(host.workers.map((w) => w.run()));
    try {
      for (const input of burst) handles.push(await startItem(env, main, input));
      // The burst's runs are queued (two run, the rest wait) before the small project comes.
      const waiting = async () => {
        const described = await Promise.all(handles.map((h) => h.describe()));
        const kinds = described.map(
          (d) =>
            (d.raw.pendingActivities ?? []).map((a) => `${a.activityType?.name}:${a.state}:${a.attempt}`).join(',') ||
            d.status.name,
        );
        return `the waiting runs (now ${await waitingRuns()}; ${starts.length} runs started; ${JSON.stringify(kinds)})`;
      };
      await until(async () => (await waitingRuns()) === 38, waiting);
      for (const input of small) handles.push(await startItem(env, main, input));
      await until(async () => (await waitingRuns()) === 42, waiting);
      const before = starts.length;
      open = true;
      await until(
        () => starts.filter((s) => s.project === 'tiny').length >= 4,
        async () =>
          `the small project's four runs (${starts.length - before} runs since, ${starts.filter((s) => s.project === 'tiny').length} of them its; ${await waitingRuns()} runs waiting; slots ${JSON.stringify(host.slots.agents?.use())})`,
      );
      const since = starts.slice(before);
      // Where the small project's fourth run started (later runs do not count: it may be done).
      const lastSmall = since.findIndex(
        (_s, i) => since.slice(0, i + 1).filter((x) => x.project === 'tiny').length === 4,
      );
      // Fair share: dispatches alternate between the two keys, so the small project's four runs
      // are among the next eight starts (give or take the runs already handed to the pollers),
      // not behind the burst's 38 waiting runs, where first-in-first-out would put them.
      expect(lastSmall).toBeLessThan(4 * 2 + 2);
      expect(since.slice(0, lastSmall + 1).filter((s) => s.project === 'big').length).toBeLessThanOrEqual(6);
    } finally {
      await Promise.all(handles.map((h) => h.terminate('fairness measured').catch(() => undefined)));
      for (const w of host.workers) w.shutdown();
      await hostRun;
    }
  });
});
