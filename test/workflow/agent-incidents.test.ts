// How the workflow takes an agent run's incidents, with scripted activities on the real dev
// server: a run that stalled on the way is recorded as an event; a run stopped in a loop goes
// down the stage's failure path with its finding verbatim, counted against the gate retries, and
// blocks past the cap.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_LIMITS } from '../../src/domain';
import { scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import { recordHistory, startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

const LOOP =
  'The developer agent asked for the same tool call 5 times in a row and was stopped (agents.maxRepeats 5). The repeated call: Bash {"command":"npm test"}';

test('a stall on the way is an event; a loop sends the stage back with the finding, then the item goes on', async () => {
  const queue = taskQueue('incidents');
  const doubles = scriptedActivities({
    step: (input, call) => {
      if (input.stage === 'architecture')
        return { costUsd: 0.1, incidents: ['stalled after tool Bash: no stream event for 600 s (attempt 1)'] };
      if (input.stage === 'development' && call === 1)
        return { costUsd: 0.2, failed: { kind: 'loop', findings: [LOOP] } };
      return { costUsd: 0.1 };
    },
  });
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, testInput());
    const state = await waitForState(handle, (s) => s.status !== 'active');
    expect(state.status).toBe('done');
    expect(state.gateRetries).toBe(1);
    expect(state.costUsd).toBeCloseTo(0.1 * 5 + 0.2 + 0.1 * 2, 6);
    const development = doubles.stepCalls.filter((c) => c.stage === 'development');
    expect(development.map((c) => [...c.findings])).toEqual([[], [LOOP]]);
    expect(state.history.find((v) => v.stage === 'development')?.outcome).toBe(
      'the developer run ended in a loop: sent to development',
    );
    expect(state.events.filter((e) => e.source === 'system').map((e) => [e.type, e.summary])).toEqual([
      ['agent.architect', 'stalled after tool Bash: no stream event for 600 s (attempt 1)'],
      ['agent.developer', LOOP],
    ]);
    await recordHistory(env, handle, 'agent-run-incidents');
  });
});

test('loops past the gate-retry cap block the item with the finding', async () => {
  const queue = taskQueue('incidents-cap');
  const doubles = scriptedActivities({
    step: (input) =>
      input.stage === 'development' ? { costUsd: 0.1, failed: { kind: 'loop', findings: [LOOP] } } : { costUsd: 0.1 },
  });
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, testInput());
    const state = await waitForState(handle, (s) => s.status === 'blocked');
    expect(state.blocked).toMatchObject({
      kind: 'cap',
      stage: 'development',
      reason: `the developer run ended in a loop on stage development after ${DEFAULT_LIMITS.maxGateRetries} retries (limit ${DEFAULT_LIMITS.maxGateRetries}): ${LOOP}`,
    });
    expect(doubles.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(DEFAULT_LIMITS.maxGateRetries + 1);
  });
});
