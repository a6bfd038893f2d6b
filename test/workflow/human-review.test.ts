// A person's review of the item's pull request (ADR-0026), on the real dev server: REQUEST_CHANGES
// stops the running review or test and sends the work back to development with the review text,
// counted with the reviewer agent's returns (past the cap the item blocks; before review it is
// only recorded); where the project requires it, an approval of the head lets the item past review.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_LIMITS, type WorkItemEvent } from '../../src/domain';
import { approveUpdate, eventSignal } from '../../src/workflows/messages';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import { recordHistory, startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

const rejected = (n: number, text: string): WorkItemEvent => ({
  key: `review-${n}`,
  source: 'gitea',
  type: 'gitea.review.rejected',
  summary: `review rejected by mkowalska on PR #17: ${text}`,
  changesRequested: { by: 'mkowalska', text },
});

test("a person's REQUEST_CHANGES stops the running review and sends the work back with the text; past the cap it blocks", async () => {
  const queue = taskQueue('human-review');
  const stopped: string[] = [];
  let developmentStarted = 0;
  const scripted = scriptedActivities({
    step: async (input, visit) => {
      if (input.stage === 'development') developmentStarted += 1;
      // The first review and the first test run until something stops them.
      if ((input.stage === 'review' || input.stage === 'testing') && visit === 1)
        return runUntilCancelled(() => void stopped.push(input.stage));
      return { costUsd: 0 };
    },
  });
  await withWorker(env, queue, scripted.activities, async () => {
    const handle = await startItem(env, queue, testInput({ limits: { ...DEFAULT_LIMITS, maxReviewRejections: 1 } }));

    // In review (the reviewer agent running), a person rejects the PR.
    await waitForState(handle, (s) => s.stage === 'review');
    const text = 'Expired coupons must be refused.\n```\napplyCoupon("OLD10") // accepted\n```';
    await handle.signal(eventSignal, rejected(1, text));
    // (The doubles are instant: the item may be past development again by the time it is asked.)
    const back = await waitForState(handle, (s) => s.reviewRejections === 1);
    expect(back.history.find((v) => v.stage === 'review')?.outcome).toBe(
      'REQUEST_CHANGES by mkowalska on the pull request: sent to development',
    );
    expect(back.overrides.at(-1)).toMatchObject({ kind: 'rollback', by: 'mkowalska', toStage: 'development' });
    expect(stopped).toEqual(['review']);

    // The developer got the text verbatim; the second review passes; testing runs.
    await waitForState(handle, (s) => s.stage === 'testing');
    const developer = scripted.stepCalls.filter((c) => c.stage === 'development');
    expect(developer.at(-1)?.findings).toEqual([`Changes requested on the pull request by mkowalska:\n${text}`]);
    await handle.signal(eventSignal, rejected(2, 'Still accepts expired coupons.'));
    const capped = await waitForState(handle, (s) => s.status === 'blocked');
    expect(capped.blocked).toMatchObject({
      kind: 'cap',
      stage: 'testing',
      reason: 'changes requested on the pull request by mkowalska; review already returned the item 1 times (limit 1)',
    });
    expect(stopped).toEqual(['review', 'testing']);
    // The same delivery again (a redelivery) changes nothing.
    await handle.signal(eventSignal, rejected(2, 'Still accepts expired coupons.'));
    expect((await waitForState(handle, (s) => s.duplicateEventsIgnored === 1)).overrides).toHaveLength(2);
    expect(developmentStarted).toBe(2);
    await recordHistory(env, handle, 'human-review');
    await handle.terminate('test over');
  });
});

test('a rejection while the item is still in development is recorded and changes nothing', async () => {
  const queue = taskQueue('human-review-early');
  const scripted = scriptedActivities({
    step: async (input) => (input.stage === 'development' ? runUntilCancelled(() => undefined) : { costUsd: 0 }),
  });
  await withWorker(env, queue, scripted.activities, async () => {
    const handle = await startItem(env, queue, testInput());
    await waitForState(handle, (s) => s.stage === 'development');
    await handle.signal(eventSignal, rejected(1, 'Too early'));
    const state = await waitForState(handle, (s) => s.events.some((e) => e.type === 'gitea.review.rejected'));
    expect({ stage: state.stage, status: state.status, returns: state.reviewRejections }).toEqual({
      stage: 'development',
      status: 'active',
      returns: 0,
    });
    expect(state.overrides).toEqual([]);
    await handle.terminate('test over');
  });
});

test("with requireHumanApproval the item waits after review for a person's approval of its head, or orch approve", async () => {
  const queue = taskQueue('human-approval');
  const HEAD = 'e'.repeat(40);
  const scripted = scriptedActivities({
    step: async (input) => ({ costUsd: 0, ...(input.stage === 'development' ? { head: HEAD } : {}) }),
  });
  await withWorker(env, queue, scripted.activities, async () => {
    const [first, second] = await Promise.all([
      startItem(env, queue, testInput({ requireHumanApproval: true })),
      startItem(env, queue, testInput({ requireHumanApproval: true })),
    ]);
    for (const handle of [first!, second!]) {
      const held = await waitForState(handle, (s) => s.status === 'blocked');
      expect(held.blocked).toMatchObject({
        kind: 'needs-person',
        stage: 'review',
        gate: 'approval',
        reason: "waiting for a person's approval of the pull request (or `orch approve`)",
      });
    }
    // An approval of an older commit does not count; one of the head does.
    const approval = (n: number, sha: string): WorkItemEvent => ({
      key: `approval-${n}`,
      source: 'gitea',
      type: 'gitea.review.approved',
      approved: { by: 'mkowalska', sha },
    });
    await first!.signal(eventSignal, approval(1, 'f'.repeat(40)));
    await waitForState(first!, (s) => s.events.length > 0 && s.events.at(-1)?.key === 'approval-1');
    expect((await waitForState(first!, () => true)).status).toBe('blocked');
    await first!.signal(eventSignal, approval(2, HEAD));
    const done = await waitForState(first!, (s) => s.status === 'done', 30_000);
    expect(done.gateResults.find((g) => g.gate === 'approval')).toMatchObject({
      stage: 'review',
      verdict: 'PASS',
      findings: ['approved on the pull request by mkowalska'],
    });
    // `orch approve` is the other way past it.
    await second!.executeUpdate(approveUpdate, { args: [{ by: 'ops', reason: 'approved in the meeting' }] });
    const approved = await waitForState(second!, (s) => s.status === 'done', 30_000);
    expect(approved.gateResults.find((g) => g.gate === 'approval')?.verdict).toBe('APPROVED_BY_PERSON');
  });
});
