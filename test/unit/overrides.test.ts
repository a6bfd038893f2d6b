import {
  OverrideRejected,
  validateApprove,
  validateCancel,
  validateRollback,
  validateSkipGate,
  type WorkItemState,
} from '../../src/domain';
import { initialState } from '../../src/workflows/initial-state';
import { testInput } from '../support/work-item-harness';

function state(patch: Partial<WorkItemState>): WorkItemState {
  return { ...initialState(testInput(), '2026-01-01T00:00:00.000Z'), ...patch };
}

describe('override validation', () => {
  test('approve needs a blocked, open item and a requester', () => {
    expect(() => validateApprove(state({ status: 'active' }), { by: 'ops' })).toThrow(OverrideRejected);
    expect(() => validateApprove(state({ status: 'blocked' }), { by: ' ' })).toThrow(
      /"by" \(who is asking\) is required/,
    );
    expect(() => validateApprove(state({ status: 'blocked' }), { by: 'ops' })).not.toThrow();
    expect(() => validateApprove(state({ status: 'done' }), { by: 'ops' })).toThrow(/is done; nothing can change it/);
  });

  test('skip-gate names a gate of the current edge and gives a reason', () => {
    const testing = state({ stage: 'testing' });
    expect(validateSkipGate(testing, { by: 'ops', gate: 'merge', reason: 'manual merge done' })).toBe('merge');
    expect(() => validateSkipGate(testing, { by: 'ops', gate: 'merge', reason: '' })).toThrow(/a reason is required/);
    expect(() => validateSkipGate(state({ stage: 'analysis' }), { by: 'ops', gate: 'merge', reason: 'x' })).toThrow(
      /does not guard the edge out of stage analysis \(gates there: artifacts\)/,
    );
    const already = state({ stage: 'testing', pendingSkips: [{ gate: 'merge', by: 'a', reason: 'b' }] });
    expect(() => validateSkipGate(already, { by: 'ops', gate: 'merge', reason: 'x' })).toThrow(
      /already set to be skipped/,
    );
  });

  test('rollback goes only to an earlier working stage', () => {
    const review = state({ stage: 'review' });
    expect(validateRollback(review, { by: 'ops', toStage: 'analysis' })).toBe('analysis');
    for (const bad of ['review', 'testing', 'created', 'nowhere']) {
      expect(() => validateRollback(review, { by: 'ops', toStage: bad })).toThrow(/cannot roll back from review/);
    }
  });

  test('cancel works on active and blocked items only', () => {
    expect(() => validateCancel(state({ status: 'active' }), { by: 'ops' })).not.toThrow();
    expect(() => validateCancel(state({ status: 'cancelled' }), { by: 'ops' })).toThrow(/is cancelled/);
  });
});
