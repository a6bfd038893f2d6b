// Operator overrides (Updates with validators) on the real dev server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { rejectionOf } from '../../src/client/errors';
import type { GateOutcome } from '../../src/domain';
import {
  approveUpdate,
  cancelUpdate,
  retryUpdate,
  rollbackUpdate,
  skipGateUpdate,
  stateQuery,
} from '../../src/workflows/messages';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import { recordHistory, startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

const failSecurity = (input: { gate: string }): GateOutcome =>
  input.gate === 'security'
    ? { gate: 'security', verdict: 'FAIL', findings: ['aws-access-token in src/config.ts:3 (commit 1a2b3c4)'] }
    : { gate: input.gate as GateOutcome['gate'], verdict: 'PASS', findings: [] };

function blockedAtSecurity() {
  return scriptedActivities({ gate: (input) => failSecurity(input) });
}

/** A gate script whose first observation runs until cancelled (a person rolls back meanwhile). */
function observationHeldOnce() {
  let observing!: () => void;
  const started = new Promise<void>((resolve) => (observing = resolve));
  let watchOnce = true;
  const gate = async (input: { gate: string }): Promise<GateOutcome> => {
    if (input.gate === 'observation' && watchOnce) {
      watchOnce = false;
      observing();
      return runUntilCancelled(() => undefined);
    }
    return { gate: input.gate as GateOutcome['gate'], verdict: 'PASS', findings: [] };
  };
  return { started, gate };
}

const noRetries = () =>
  testInput({ limits: { maxReviewRejections: 3, maxGateRetries: 0, dedupKeysKept: 500, eventsKept: 50 } });

describe('overrides', () => {
  test('approve accepts the blocked gate, records who and why, and runs the remaining gates', async () => {
    const queue = taskQueue('approve');
    const doubles = blockedAtSecurity();
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, noRetries());
      await waitForState(handle, (s) => s.status === 'blocked');
      const result = await handle.executeUpdate(approveUpdate, {
        args: [{ by: 'priya', reason: 'test key, revoked' }],
      });
      expect(result.status).toBe('active');
      const final = await handle.result();
      await recordHistory(env, handle, 'approve-after-block');
      expect(final.status).toBe('done');
      expect(final.overrides).toEqual([
        expect.objectContaining({ kind: 'approve', by: 'priya', reason: 'test key, revoked', stage: 'testing' }),
      ]);
      expect(final.gateResults.filter((g) => g.gate === 'security').map((g) => g.verdict)).toEqual([
        'FAIL',
        'APPROVED_BY_PERSON',
      ]);
      // merge and image-freshness still ran after the approval
      expect(doubles.gateCalls.filter((c) => c.stage === 'testing').map((c) => c.gate)).toEqual([
        'artifacts',
        'security',
        'merge',
        'image-freshness',
      ]);
    });
  });

  test('retry re-runs the blocked stage from its step', async () => {
    const queue = taskQueue('retry');
    let failing = true;
    const doubles = scriptedActivities({
      step: (input) => {
        if (input.stage === 'architecture' && failing) throw new Error('model overloaded');
        return { costUsd: 0.1 };
      },
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      await waitForState(handle, (s) => s.status === 'blocked');
      failing = false;
      await handle.executeUpdate(retryUpdate, { args: [{ by: 'ops' }] });
      const final = await handle.result();
      expect(final.status).toBe('done');
      expect(final.overrides.map((o) => o.kind)).toEqual(['retry']);
    });
  });

  test('skip-gate needs a reason and a gate that guards the current edge', async () => {
    const queue = taskQueue('skip');
    const doubles = blockedAtSecurity();
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, noRetries());
      await waitForState(handle, (s) => s.status === 'blocked');
      expect(
        await rejectionOf(
          handle.executeUpdate(skipGateUpdate, { args: [{ by: 'ops', gate: 'security', reason: '' }] }),
        ),
      ).toMatch(/a reason is required/);
      expect(
        await rejectionOf(
          handle.executeUpdate(skipGateUpdate, { args: [{ by: 'ops', gate: 'observation', reason: 'x' }] }),
        ),
      ).toMatch(
        /does not guard the edge out of stage testing \(gates there: artifacts, security, merge, image-freshness\)/,
      );
      expect(
        await rejectionOf(
          handle.executeUpdate(skipGateUpdate, { args: [{ by: 'ops', gate: 'nonsense', reason: 'x' }] }),
        ),
      ).toMatch(/gate "nonsense" does not guard/);
      // Rejected overrides changed nothing.
      const unchanged = await handle.query(stateQuery);
      expect(unchanged.overrides).toEqual([]);
      expect(unchanged.status).toBe('blocked');

      await handle.executeUpdate(skipGateUpdate, {
        args: [{ by: 'ops', gate: 'security', reason: 'scanner outage, INC-7' }],
      });
      const final = await handle.result();
      expect(final.status).toBe('done');
      expect(final.gateResults.find((g) => g.verdict === 'SKIPPED')).toMatchObject({
        gate: 'security',
        findings: ['skipped by ops: scanner outage, INC-7'],
      });
    });
  });

  test('rollback while an agent is running cancels it and restarts at the earlier stage', async () => {
    const queue = taskQueue('rollback');
    let cancelled = 0;
    let blockOnce = true;
    let developerRunning!: () => void;
    const developerStarted = new Promise<void>((resolve) => (developerRunning = resolve));
    const doubles = scriptedActivities({
      step: async (input) => {
        if (input.stage === 'development' && blockOnce) {
          blockOnce = false;
          developerRunning();
          return runUntilCancelled(() => (cancelled += 1));
        }
        return { costUsd: 0 };
      },
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      await developerStarted;
      expect(
        await rejectionOf(handle.executeUpdate(rollbackUpdate, { args: [{ by: 'ops', toStage: 'review' }] })),
      ).toMatch(/cannot roll back from development to "review" \(earlier stages: analysis, architecture\)/);
      const result = await handle.executeUpdate(rollbackUpdate, {
        args: [{ by: 'priya', toStage: 'architecture', reason: 'ADR missed the cache' }],
      });
      expect(result).toMatchObject({ stage: 'architecture' });
      const final = await handle.result();
      await recordHistory(env, handle, 'rollback-while-running');
      expect(cancelled).toBe(1);
      expect(final.status).toBe('done');
      const stages = final.history.map((v) => v.stage);
      expect(stages.slice(0, 6)).toEqual([
        'created',
        'analysis',
        'architecture',
        'development',
        'architecture',
        'development',
      ]);
      expect(final.history[3]?.outcome).toBe('rolled back to architecture by priya: ADR missed the cache');
      const architectRerun = doubles.stepCalls.filter((c) => c.stage === 'architecture')[1];
      expect(architectRerun?.findings).toEqual([
        'Rolled back from development to architecture by priya: ADR missed the cache',
      ]);
      // Production was never touched: nothing to roll back there.
      expect(doubles.rollbackCalls).toEqual([]);
    });
  });

  test('rollback during the post-deploy observation rolls production back, then reopens development with the evidence', async () => {
    const queue = taskQueue('rollback-prod');
    const observation = observationHeldOnce();
    const doubles = scriptedActivities({
      gate: observation.gate,
      rollback: (input) => ({
        ok: true,
        detail: `production rollback from abc123: \`./rollback.sh\` succeeded (asked by ${input.by})`,
      }),
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const item = testInput();
      const handle = await startItem(env, queue, item);
      await observation.started;
      await handle.executeUpdate(rollbackUpdate, {
        args: [{ by: 'priya', toStage: 'development', reason: 'checkout errors in the logs' }],
      });
      const final = await handle.result();
      await recordHistory(env, handle, 'production-rollback');
      expect(final.status).toBe('done');
      expect(doubles.rollbackCalls).toEqual([
        {
          project: item.project,
          ticket: item.ticket,
          branch: final.branch,
          by: 'priya',
          reason: 'checkout errors in the logs',
        },
      ]);
      const developerRerun = doubles.stepCalls.filter((c) => c.stage === 'development')[1];
      expect(developerRerun?.findings).toEqual([
        'Rolled back from deploy to development by priya: checkout errors in the logs',
        'production rollback from abc123: `./rollback.sh` succeeded (asked by priya)',
      ]);
      expect(final.productionTouched).toBeUndefined();
    });
  });

  test('a production rollback that fails blocks the item (fail closed); retry runs it again', async () => {
    const queue = taskQueue('rollback-prod-fail');
    const observation = observationHeldOnce();
    const doubles = scriptedActivities({
      gate: observation.gate,
      rollback: (_input, call) =>
        call === 1
          ? { ok: false, detail: 'rollback `./rollback.sh` FAILED (exit 3): registry unreachable' }
          : { ok: true, detail: 'rolled back on the second try' },
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      await observation.started;
      await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'priya', toStage: 'development' }] });
      const blocked = await waitForState(handle, (s) => s.status === 'blocked');
      expect(blocked.stage).toBe('development');
      expect(blocked.blocked).toMatchObject({ kind: 'needs-person', productionRollback: true });
      expect(blocked.blocked?.reason).toBe(
        'production was not rolled back: rollback `./rollback.sh` FAILED (exit 3): registry unreachable; roll it back by hand and approve, or retry',
      );
      // Development does not start while production may still run the rolled-back code.
      expect(doubles.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(1);
      await handle.executeUpdate(retryUpdate, { args: [{ by: 'ops' }] });
      const final = await handle.result();
      expect(final.status).toBe('done');
      expect(doubles.rollbackCalls).toHaveLength(2);
      expect(doubles.stepCalls.filter((c) => c.stage === 'development')[1]?.findings).toContain(
        'rolled back on the second try',
      );
    });
  });

  test('approving a failed production rollback (production put right by hand) lets development start', async () => {
    const queue = taskQueue('rollback-prod-approve');
    const observation = observationHeldOnce();
    const doubles = scriptedActivities({
      gate: observation.gate,
      rollback: () => ({ ok: false, detail: 'no rollback command is configured (commands.rollback)' }),
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      await observation.started;
      await handle.executeUpdate(rollbackUpdate, { args: [{ by: 'priya', toStage: 'development' }] });
      await waitForState(handle, (s) => s.blocked?.productionRollback === true);
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops', reason: 'previous image redeployed by hand' }] });
      const final = await handle.result();
      expect(final.status).toBe('done');
      expect(doubles.rollbackCalls).toHaveLength(1);
      expect(final.pendingProductionRollback).toBeUndefined();
      expect(doubles.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(2);
    });
  });

  test('cancel ends the item as cancelled (not failed), and later overrides are rejected', async () => {
    const queue = taskQueue('cancel');
    const doubles = blockedAtSecurity();
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, noRetries());
      await waitForState(handle, (s) => s.status === 'blocked');
      expect(await rejectionOf(handle.executeUpdate(cancelUpdate, { args: [{ by: '' }] }))).toMatch(
        /"by" \(who is asking\) is required/,
      );
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'priya', reason: 'duplicate of SHOP-7' }] });
      const final = await handle.result();
      expect(final.status).toBe('cancelled');
      expect(final.overrides).toEqual([expect.objectContaining({ kind: 'cancel', by: 'priya' })]);
      const description = await handle.describe();
      expect(description.status.name).toBe('COMPLETED');
    });
  });

  test('approve and retry are rejected while the item is not blocked', async () => {
    const queue = taskQueue('notblocked');
    const doubles = scriptedActivities({
      step: async (input) => (input.stage === 'analysis' ? runUntilCancelled(() => undefined) : { costUsd: 0 }),
    });
    await withWorker(env, queue, doubles.activities, async () => {
      const handle = await startItem(env, queue, testInput());
      await waitForState(handle, (s) => s.stage === 'analysis');
      expect(await rejectionOf(handle.executeUpdate(approveUpdate, { args: [{ by: 'ops' }] }))).toMatch(
        /is not blocked \(stage analysis, active\)/,
      );
      expect(await rejectionOf(handle.executeUpdate(retryUpdate, { args: [{ by: 'ops' }] }))).toMatch(/is not blocked/);
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'ops', reason: 'cleanup' }] });
      expect((await handle.result()).status).toBe('cancelled');
    });
  });
});
