// The cost ledger in the workflow, with scripted activities on the real dev server: costs add up,
// an exhausted budget blocks before money is spent, a run stopped at its cap blocks with its cost
// counted, and a top-up raises the budget and lifts the block.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { rejectionOf } from '../../src/client/errors';
import { topUpBudgetUpdate } from '../../src/workflows/messages';
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

test('a run stopped at its dollar cap blocks with its cost counted; a top-up lets the stage run again', async () => {
  const queue = taskQueue('budget');
  // The analyst's first run hits the cap; every later run costs $0.40.
  const doubles = scriptedActivities({
    step: (input, call) =>
      input.stage === 'analysis' && call === 1
        ? { costUsd: 0.9, sessionId: 's-1', stop: { kind: 'budget', reason: 'the agent reached its dollar cap' } }
        : { costUsd: 0.4, sessionId: `s-${input.stage}` },
  });
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, testInput({ budgetUsd: 1 }));
    const blocked = await waitForState(handle, (s) => s.status === 'blocked');
    expect(blocked).toMatchObject({
      stage: 'analysis',
      costUsd: 0.9,
      blocked: {
        kind: 'budget',
        reason:
          'the agent reached its dollar cap; budget exhausted: spent $0.90 of $1.00; top up the budget to continue',
      },
    });
    expect((await handle.describe()).searchAttributes.OrchCost).toEqual([0.9]);

    expect(
      await rejectionOf(handle.executeUpdate(topUpBudgetUpdate, { args: [{ by: 'ops', amountUsd: -5 }] })),
    ).toMatch(/amountUsd must be a number of dollars above 0/);

    await handle.executeUpdate(topUpBudgetUpdate, { args: [{ by: 'ops', amountUsd: 0.5, reason: 'one more try' }] });
    // 0.9 + 0.4 = 1.3 < 1.5: analysis passes; architecture's run makes it 1.7, and the next
    // agent run is refused before it starts.
    const again = await waitForState(handle, (s) => s.status === 'blocked' && s.stage !== 'analysis');
    expect(again).toMatchObject({
      stage: 'development',
      costUsd: 1.7,
      budgetUsd: 1.5,
      blocked: { kind: 'budget', reason: 'budget exhausted: spent $1.70 of $1.50; top up the budget to continue' },
    });
    expect(again.overrides).toEqual([
      expect.objectContaining({ kind: 'top-up', by: 'ops', amountUsd: 0.5, reason: 'one more try' }),
    ]);
    expect(doubles.stepCalls.map((c) => c.stage)).toEqual(['analysis', 'analysis', 'architecture']);
    expect(doubles.stepCalls[1]?.remainingBudgetUsd).toBe(0.6);
    await recordHistory(env, handle, 'budget-top-up');
  });
});

test('a delivered item releases its workspace', async () => {
  const queue = taskQueue('release');
  const doubles = scriptedActivities();
  const input = testInput();
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, input);
    await waitForState(handle, (s) => s.status === 'done');
    await handle.result();
  });
  expect(doubles.releasedWorkspaces).toEqual([input.ticket]);
});
