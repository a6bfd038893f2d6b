// The catch-up job on the real dev server: its Schedule, and the reconcile activity against a
// local Plane holding a ticket whose webhook was missed and one cancelled meanwhile.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createReconcileActivities } from '../../src/activities/reconcile';
import { RECONCILE_SCHEDULE_ID, type ReconcileResult } from '../../src/domain/reconcile';
import { ensureReconcileSchedule } from '../../src/temporal/schedules';
import { PlaneClient } from '../../src/tracker/plane-client';
import { stateQuery } from '../../src/workflows/messages';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { workerRegistry } from '../../src/activities/metrics';
import { parseProjects } from '../../src/config/projects';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { fakePlane } from '../support/fake-trackers';
import { startTemporal, workflowBundle } from '../support/temporal';
import { WORLD, fixtureConfig, fixturePlaneWorld } from '../support/webhook-fixtures';
import { startWorkers, taskQueue, waitForState } from '../support/work-item-harness';

import { PLANE_API_KEY as API_KEY } from '../support/test-secrets';
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal({ own: true }); // the catch-up Schedule is one per namespace
});
afterAll(async () => {
  await env?.teardown();
});

test('the schedule starts missed work items once and cancels items cancelled in Plane', async () => {
  const plane = await fakePlane(
    fixturePlaneWorld([
      { id: WORLD.workItemId, sequence_id: 42, name: 'Missed by the webhook', state: WORLD.todoStateId },
      { id: 'backlog-item', sequence_id: 43, name: 'Not triggered', state: WORLD.startedStateId },
    ]),
  );

  const queue = taskQueue('reconcile');
  // A short heartbeat timeout lets the cancelled agent double notice the cancellation quickly.
  const config = fixtureConfig({
    ORCH_TASK_QUEUE: queue,
    ORCH_RECONCILE_INTERVAL_MS: '3600000',
    ORCH_HEARTBEAT_TIMEOUT_MS: '2000',
  });
  const planeClient = new PlaneClient({
    baseUrl: plane.url,
    apiKey: API_KEY,
    workspace: 'acme',
    http: { baseDelayMs: 1 },
  });
  const doubles = scriptedActivities({ step: () => runUntilCancelled(() => undefined) });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: workflowBundle(),
    activities: {
      ...doubles.activities,
      ...createReconcileActivities({ config, client: env.client, plane: planeClient }),
    },
  });
  try {
    await worker.runUntil(async () => {
      expect(await ensureReconcileSchedule(env.client, config)).toBe('created');
      expect(await ensureReconcileSchedule(env.client, config)).toBe('updated');
      const schedule = env.client.schedule.getHandle(RECONCILE_SCHEDULE_ID);
      const runOnce = async (): Promise<ReconcileResult> => {
        const before = (await schedule.describe()).info.recentActions.length;
        await schedule.trigger();
        for (;;) {
          const actions = (await schedule.describe()).info.recentActions;
          if (actions.length > before) {
            const run = actions.at(-1)!.action;
            return env.client.workflow.getHandle(run.workflow.workflowId, run.workflow.firstExecutionRunId).result();
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      expect(await runOnce()).toEqual({
        started: ['SHOP-42'],
        cancelled: [],
        skipped: [],
        failed: [],
        paused: [],
        resumed: [],
        noticesRetried: [],
      });
      const item = env.client.workflow.getHandle('work-item/shop/SHOP-42');
      await waitForState(item, (s) => s.stage === 'analysis');
      // Running again changes nothing: the item exists.
      expect(await runOnce()).toEqual({
        started: [],
        cancelled: [],
        skipped: [],
        failed: [],
        paused: [],
        resumed: [],
        noticesRetried: [],
      });

      // Moved back to Backlog while its webhook was lost: the next run pauses it (its running step
      // stops); back in Todo, the next run resumes it.
      await planeClient.setState(WORLD.planeProjectId, WORLD.workItemId, WORLD.backlogStateId);
      expect(await runOnce()).toMatchObject({ paused: ['SHOP-42'], cancelled: [] });
      await waitForState(item, (s) => s.blocked?.kind === 'paused');
      expect(await runOnce()).toMatchObject({ paused: [] });
      await planeClient.setState(WORLD.planeProjectId, WORLD.workItemId, WORLD.todoStateId);
      expect(await runOnce()).toMatchObject({ resumed: ['SHOP-42'], started: [] });
      await waitForState(item, (s) => s.status === 'active' && s.stage === 'analysis');

      // Cancelled in Plane while its webhook was lost: the next run cancels the work item.
      await planeClient.setState(WORLD.planeProjectId, WORLD.workItemId, WORLD.cancelledStateId);
      expect(await runOnce()).toEqual({
        started: [],
        cancelled: ['SHOP-42'],
        skipped: [],
        failed: [],
        paused: [],
        resumed: [],
        noticesRetried: [],
      });
      const final = await item.result();
      expect(final.status).toBe('cancelled');
      expect(final.overrides).toEqual([
        expect.objectContaining({ kind: 'pause', by: 'catch-up job', reason: 'moved to Backlog in Plane' }),
        expect.objectContaining({ kind: 'retry', reason: expect.stringContaining('catch-up job') }),
        expect.objectContaining({ kind: 'cancel', by: 'catch-up job', reason: 'cancelled in Plane' }),
      ]);
      expect(
        (await item.query(stateQuery)).events.filter((e) => e.key === `plane:reconcile:${WORLD.workItemId}`),
      ).toHaveLength(1);
      await schedule.delete();
    });
  } finally {
    await plane.close();
  }
});

test('the catch-up finds a label-triggered ticket on the third page, and a failing project does not stop the others', async () => {
  const labelId = 'c7a3e0d4-5b7f-4d36-9a2e-0f4f5e6a7b8c';
  const items = Array.from({ length: 6 }, (_, i) => ({
    id: `item-${i + 1}`,
    sequence_id: i + 1,
    name: `Ticket ${i + 1}`,
    state: WORLD.startedStateId,
    // The list API gives label ids; the project names its trigger label in another case.
    labels: i + 1 === 2 || i + 1 === 5 ? [labelId] : [],
  }));
  const world = fixturePlaneWorld([]);
  const shop = world.projects[WORLD.planeProjectId]!;
  const plane = await fakePlane({
    ...world,
    // Two per page: six tickets are three pages.
    maxPerPage: 2,
    projects: { [WORLD.planeProjectId]: { ...shop, labels: [{ id: labelId, name: 'agent' }], items } },
  });
  const queue = taskQueue('reconcile-pages');
  const config = {
    ...fixtureConfig({ ORCH_TASK_QUEUE: queue }),
    projects: parseProjects(
      [
        'projects:',
        // First in the file, and unknown to Plane: its catch-up fails.
        '  broken:',
        '    ticketPrefix: BRK',
        '    repository: /srv/git/broken.git',
        `    plane: { projectId: 0b4e1f0c-0000-4000-8000-000000000000, triggerState: ${WORLD.todoStateId} }`,
        '  shop:',
        '    ticketPrefix: SHOP',
        '    repository: /srv/git/shop.git',
        `    plane: { projectId: ${WORLD.planeProjectId}, triggerLabel: Agent }`,
        '',
      ].join('\n'),
      'reconcile-projects.yaml',
    ).projects,
  };
  const planeClient = new PlaneClient({
    baseUrl: plane.url,
    apiKey: API_KEY,
    workspace: 'acme',
    http: { baseDelayMs: 1 },
  });
  try {
    const { reconcilePlane } = createReconcileActivities({ config, client: env.client, plane: planeClient });
    const result = (await new MockActivityEnvironment().run(reconcilePlane)) as ReconcileResult;
    expect(result.started).toEqual(['SHOP-2', 'SHOP-5']);
    expect(result.failed).toEqual([expect.stringMatching(/^broken: .*404/)]);
    // Three pages were asked for.
    expect(plane.requests.filter((r) => r.path.includes('/work-items/?')).map((r) => r.path)).toHaveLength(3);
    expect(await workerRegistry.getSingleMetricAsString('orch_reconcile_failures_total')).toContain(
      'orch_reconcile_failures_total{project="broken",tracker="plane"} 1',
    );
    expect(await workerRegistry.getSingleMetricAsString('orch_reconcile_last_success_timestamp_seconds')).toMatch(
      /project="shop",tracker="plane"} \d+/,
    );
  } finally {
    for (const ticket of ['SHOP-2', 'SHOP-5'])
      await env.client.workflow
        .getHandle(`work-item/shop/${ticket}`)
        .terminate('test over')
        .catch(() => undefined);
    await plane.close();
  }
});

test('the catch-up retries the notices of an item blocked on the tracker, once the tracker answers again', async () => {
  const itemId = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
  const plane = await fakePlane(
    fixturePlaneWorld([{ id: itemId, sequence_id: 77, name: 'Tracker was down', state: WORLD.todoStateId }]),
  );
  const queue = taskQueue('reconcile-tracker');
  const config = fixtureConfig({ ORCH_TASK_QUEUE: queue });
  const planeClient = new PlaneClient({
    baseUrl: plane.url,
    apiKey: API_KEY,
    workspace: 'acme',
    http: { baseDelayMs: 1 },
  });
  let trackerDown = true;
  // Steps finish at once: a failed delivery blocks the item at the next step boundary.
  const doubles = scriptedActivities();
  const activities = {
    ...doubles.activities,
    syncTrackerNotices: async (input: Parameters<typeof doubles.activities.syncTrackerNotices>[0]) => {
      if (trackerDown) throw ApplicationFailure.create({ message: 'Plane answered 503', nonRetryable: true });
      return doubles.activities.syncTrackerNotices(input);
    },
  };
  const { reconcilePlane } = createReconcileActivities({ config, client: env.client, plane: planeClient });
  const run = async () => (await new MockActivityEnvironment().run(reconcilePlane)) as ReconcileResult;
  const workers = await startWorkers(env, queue, activities);
  const item = env.client.workflow.getHandle('work-item/shop/SHOP-77');
  try {
    expect((await run()).started).toEqual(['SHOP-77']);
    await waitForState(item, (s) => s.blocked?.kind === 'tracker');
    // Back up: the next catch-up retries the notices; they go out and the item goes on.
    trackerDown = false;
    expect((await run()).noticesRetried).toEqual(['SHOP-77']);
    const state = await waitForState(item, (s) => s.status !== 'blocked' && s.notices.length === 0);
    expect(state.overrides.at(-1)).toMatchObject({ kind: 'retry', by: 'catch-up job' });
    expect(doubles.trackerCalls.length).toBeGreaterThan(0);
  } finally {
    await item.terminate('test over').catch(() => undefined);
    await workers.stop();
    await plane.close();
  }
});
