// The work-item pipeline on the real Temporal dev server, activities replaced by scripted doubles.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_LIMITS, STAGES, type GateInput, type GateOutcome } from '../../src/domain';
import { createGateActivities } from '../../src/activities/gates';
import { testConfig } from '../support/config';
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

describe('work-item pipeline', () => {
  test('happy path walks every stage to done', async () => {
    const queue = taskQueue('happy');
    const doubles = scriptedActivities();
    const input = testInput();
    const final = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, input);
      const result = await handle.result();
      await recordHistory(env, handle, 'happy-path');
      return result;
    });
    expect(final.status).toBe('done');
    expect(final.stage).toBe('done');
    expect(final.history.map((v) => v.stage)).toEqual([...STAGES]);
    // Six steps (five agents and two deploys, minus none) each cost 0.25.
    expect(doubles.stepCalls.map((c) => c.stage)).toEqual([
      'analysis',
      'architecture',
      'development',
      'review',
      'testing',
      'deploy-staging',
      'deploy',
    ]);
    expect(doubles.stepCalls.map((c) => c.role)).toEqual([
      'analyst',
      'architect',
      'developer',
      'reviewer',
      'tester',
      undefined,
      undefined,
    ]);
    expect(final.costUsd).toBeCloseTo(7 * 0.25);
    // The security gate runs before merge and image freshness on the edge into deploy-staging.
    const testingGates = doubles.gateCalls.filter((c) => c.stage === 'testing').map((c) => c.gate);
    expect(testingGates).toEqual(['artifacts', 'security', 'merge', 'image-freshness']);
  });

  test('review REQUEST_CHANGES returns to development at most 3 times, then blocks', async () => {
    const queue = taskQueue('review');
    const doubles = scriptedActivities({
      gate: (input, call): GateOutcome =>
        input.stage === 'review'
          ? { gate: input.gate, verdict: 'REQUEST_CHANGES', findings: [`round ${call}: rename applyCoupon`] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const input = testInput();
    const state = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, input);
      const blocked = await waitForState(handle, (s) => s.status === 'blocked');
      await recordHistory(env, handle, 'review-rejections-blocked');
      return blocked;
    });
    expect(state.stage).toBe('review');
    expect(state.reviewRejections).toBe(3);
    expect(state.blocked).toMatchObject({ kind: 'cap', gate: 'artifacts' });
    expect(state.blocked?.reason).toMatch(/review requested changes 4 times; the limit is 3/);
    const devRuns = doubles.stepCalls.filter((c) => c.stage === 'development');
    expect(devRuns).toHaveLength(4);
    expect(devRuns[1]?.findings).toEqual(['round 1: rename applyCoupon']);
    expect(devRuns[3]?.findings).toEqual(['round 3: rename applyCoupon']);
  });

  test('a failed gate sends its findings verbatim to the next developer run', async () => {
    const queue = taskQueue('findings');
    const findings = [
      'src/cart.ts:42 — applyCoupon() has no test for an expired code',
      'CHANGELOG.md not updated; "docs travel with code" <rule 2> & more',
    ];
    const doubles = scriptedActivities({
      gate: (input, call) =>
        input.stage === 'testing' && input.gate === 'security' && call === 1
          ? { gate: input.gate, verdict: 'FAIL', findings }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const final = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      const result = await handle.result();
      await recordHistory(env, handle, 'gate-failure-findings');
      return result;
    });
    expect(final.status).toBe('done');
    expect(final.gateRetries).toBe(1);
    const devRuns = doubles.stepCalls.filter((c) => c.stage === 'development');
    expect(devRuns).toHaveLength(2);
    expect(devRuns[0]?.findings).toEqual([]);
    expect(devRuns[1]?.findings).toEqual(findings);
    // Findings are cleared once the stage's gates pass.
    expect(doubles.stepCalls.find((c) => c.stage === 'review' && c.attempt === 2)?.findings).toEqual([]);
    expect(final.gateResults.find((g) => g.gate === 'security' && g.verdict === 'FAIL')?.findings).toEqual(findings);
  });

  test('a gate that keeps failing blocks past the retry cap instead of spinning', async () => {
    const queue = taskQueue('gatecap');
    const doubles = scriptedActivities({
      gate: (input) =>
        input.gate === 'merge'
          ? { gate: 'merge', verdict: 'FAIL', findings: ['conflict in src/cart.ts'] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const input = testInput({ limits: { ...DEFAULT_LIMITS, maxGateRetries: 2 } });
    const state = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, input);
      return waitForState(handle, (s) => s.status === 'blocked');
    });
    expect(state.stage).toBe('testing');
    expect(state.gateRetries).toBe(2);
    expect(state.blocked).toMatchObject({ kind: 'cap', gate: 'merge', gateIndex: 2 });
    expect(doubles.gateCalls.filter((c) => c.gate === 'merge')).toHaveLength(3);
  });

  test('a gate this worker does not know blocks the stage until the workers are upgraded', async () => {
    const queue = taskQueue('notimpl');
    // A gate the worker's registry does not know (a workflow newer than the worker) is refused.
    const realGates = createGateActivities(testConfig());
    const doubles = scriptedActivities();
    const activities = {
      ...doubles.activities,
      runGate: (input: GateInput) =>
        input.gate === 'observation'
          ? realGates.runGate({ ...input, gate: 'canary' as GateInput['gate'] })
          : doubles.activities.runGate(input),
    };
    const state = await withWorker(env, queue, activities, async () => {
      const handle = await startItem(env, queue, testInput());
      const blocked = await waitForState(handle, (s) => s.status === 'blocked');
      await recordHistory(env, handle, 'not-implemented-blocked');
      return blocked;
    });
    expect(state.stage).toBe('deploy');
    expect(state.blocked).toMatchObject({
      kind: 'not-implemented',
      reason: 'this worker does not know gate canary: upgrade the workers, then retry',
      gate: 'observation',
    });
  });

  test('an activity that keeps crashing blocks after its retries with the error', async () => {
    const queue = taskQueue('crash');
    const doubles = scriptedActivities({
      step: () => {
        throw new Error('claude exited with code 1');
      },
    });
    const state = await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      return waitForState(handle, (s) => s.status === 'blocked');
    });
    expect(state.blocked).toMatchObject({
      kind: 'activity-error',
      reason: 'runAgent failed: claude exited with code 1',
    });
    expect(doubles.stepCalls).toHaveLength(2); // retryMaximumAttempts in FAST_TIMEOUTS
  });
});
