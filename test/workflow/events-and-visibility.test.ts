// Event deduplication, continue-as-new and search attributes on the real dev server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { listWorkItems, submitWorkItem } from '../../src/client/work-items';
import { eventSignal } from '../../src/workflows/messages';
import { testConfig } from '../support/config';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import {
  recordHistory,
  startItem,
  taskQueue,
  testInput,
  waitForState,
  withWorker,
  uniqueTicketNumber,
} from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('events', () => {
  test('duplicate deliveries have one effect and the dedup memory is bounded', async () => {
    const queue = taskQueue('dedup');
    const doubles = scriptedActivities({ step: async () => runUntilCancelled(() => undefined) });
    const input = testInput({ limits: { maxReviewRejections: 3, maxGateRetries: 3, dedupKeysKept: 5, eventsKept: 3 } });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, input);
      const update = {
        key: 'plane:abc',
        source: 'plane' as const,
        type: 'ticket.updated',
        title: 'Apply coupon codes at checkout',
      };
      await handle.signal(eventSignal, update);
      await handle.signal(eventSignal, update);
      await handle.signal(eventSignal, { ...update, title: 'ignored: same key' });
      let state = await waitForState(handle, (s) => s.duplicateEventsIgnored === 2);
      expect(state.title).toBe('Apply coupon codes at checkout');
      expect(state.events.map((e) => e.key)).toEqual([`created-${input.ticket}`, 'plane:abc']);
      for (let i = 0; i < 6; i++)
        await handle.signal(eventSignal, { key: `gitea:${i}`, source: 'gitea', type: 'push' });
      state = await waitForState(handle, (s) => s.seenEventKeys.includes('gitea:5'));
      expect(state.seenEventKeys).toEqual(['gitea:1', 'gitea:2', 'gitea:3', 'gitea:4', 'gitea:5']);
      expect(state.events.map((e) => e.key)).toEqual(['gitea:3', 'gitea:4', 'gitea:5']);
      await recordHistory(env, handle, 'events-dedup');
      await handle.terminate('test over');
    });
  });
});

describe('continue-as-new', () => {
  test('carries the whole state into the next run', async () => {
    const queue = taskQueue('can');
    const doubles = scriptedActivities({
      gate: (input, call) =>
        input.stage === 'review' && call <= 2
          ? { gate: input.gate, verdict: 'REQUEST_CHANGES', findings: [`review round ${call}`] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const input = testInput({ continueAsNewAfterEvents: 40 });
    const final = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, input);
      await handle.signal(eventSignal, { key: 'gitea:push-1', source: 'gitea', type: 'push' });
      return handle.result();
    });
    expect(final.status).toBe('done');
    expect(final.generation).toBeGreaterThan(0);
    expect(final.reviewRejections).toBe(2);
    expect(final.history.map((v) => v.stage)[0]).toBe('created');
    expect(final.history.filter((v) => v.stage === 'development')).toHaveLength(3);
    expect(final.seenEventKeys).toContain('gitea:push-1');
    const executions: string[] = [];
    for await (const info of env.client.workflow.list({
      query: `WorkflowId = '${`work-item/${input.project}/${input.ticket}`}'`,
    })) {
      executions.push(info.runId);
    }
    expect(executions.length).toBe(final.generation + 1);
  });
});

describe('search attributes and Web UI summary', () => {
  test('submitWorkItem sets a static summary, and a visibility query finds items by project, stage and blocked', async () => {
    const queue = taskQueue('sa');
    const config = testConfig({ ORCH_TASK_QUEUE: queue });
    const doubles = scriptedActivities({
      gate: (input) =>
        input.stage === 'review'
          ? { gate: input.gate, verdict: 'FAIL', findings: ['no tests'] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const ticket = `VIS-${uniqueTicketNumber()}`;
    await withWorker(env, queue, doubles.activities, async () => {
      const { workflowId } = await submitWorkItem(
        env.client,
        config,
        'visibility',
        { ticket, title: 'Search me', description: '', url: 'https://plane.example/VIS' },
        {
          key: `cli:${ticket}`,
          source: 'cli',
          type: 'ticket.created',
        },
      );
      expect(workflowId).toBe(`work-item/visibility/${ticket}`);
      const handle = env.client.workflow.getHandle(workflowId);
      const state = await waitForState(handle, (s) => s.status === 'blocked');
      expect(state.stage).toBe('review');
      expect(state.blocked?.reason).toMatch(/gate artifacts failed on stage review/);
      // Other test files use the project too (one shared server): only this item's rows count.
      const mine = async (filter: Parameters<typeof listWorkItems>[1]) =>
        (await listWorkItems(env.client, filter)).filter((r) => r.ticket === ticket);
      const rows = await eventually(
        () => mine({ project: 'visibility', stage: 'review', blocked: true }),
        (r) => r.length === 1,
      );
      expect(rows).toEqual([
        expect.objectContaining({
          ticket,
          project: 'visibility',
          stage: 'review',
          blocked: true,
          attempt: 1,
          costUsd: 1,
        }),
      ]);
      expect(await mine({ project: 'visibility', stage: 'analysis' })).toEqual([]);
      const description = await handle.describe();
      expect(await description.staticSummary()).toBe(`${ticket}: Search me (visibility)`);
      expect(await description.staticDetails()).toBe('Ticket: https://plane.example/VIS');
      await handle.terminate('test over');
    });
  });
});
