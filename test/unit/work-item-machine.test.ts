// The work item's rules without Temporal: the machine with a fake port (time, publish, patches),
// so each rule case runs in milliseconds. The server tests keep proving the wiring.
import {
  DEFAULT_LIMITS,
  WorkItemMachine,
  ciMissing,
  ciVerdict,
  validateApprove,
  validatePause,
  type BlockedInfo,
  type MachineOptions,
  type MachinePatch,
  type MachinePort,
  type Stage,
  type WorkItemState,
} from '../../src/domain';
import { initialState } from '../../src/workflows/initial-state';
import { renderDetails } from '../../src/workflows/details';
import { renderState } from '../../src/cli/format';

interface Fake extends MachinePort {
  published: number;
  patchesAsked: MachinePatch[];
  logs: string[];
}

function machineAt(
  stage: Stage,
  overrides: Partial<WorkItemState> = {},
  patches: Partial<Record<MachinePatch, boolean>> = {},
  limits = DEFAULT_LIMITS,
  options: MachineOptions = {},
) {
  const port: Fake = {
    published: 0,
    patchesAsked: [],
    logs: [],
    now: () => '2026-12-01T00:00:00.000Z',
    publish: () => void (port.published += 1),
    patched: (id) => (port.patchesAsked.push(id), patches[id] ?? true),
    info: (m) => void port.logs.push(`info ${m}`),
    warn: (m) => void port.logs.push(`warn ${m}`),
    error: (m) => void port.logs.push(`error ${m}`),
  };
  const state: WorkItemState = {
    ...initialState(
      {
        project: 'shop',
        ticket: 'SHOP-1',
        title: 'Coupons',
        description: '',
        budgetUsd: 1,
        limits,
        timeouts: {
          agentMs: 1,
          gateMs: 1,
          deployMs: 1,
          heartbeatMs: 1,
          retryInitialIntervalMs: 1,
          retryMaximumAttempts: 1,
        },
      },
      '2026-12-01T00:00:00.000Z',
    ),
    stage,
    ...overrides,
  };
  return { machine: new WorkItemMachine(state, limits, port, options), state, port };
}

const fail = (findings: string[] = ['tests fail']) => ({
  gate: 'artifacts' as const,
  verdict: 'FAIL' as const,
  findings,
});
const changes = { gate: 'artifacts' as const, verdict: 'REQUEST_CHANGES' as const, findings: ['validate the code'] };

describe('sending work back', () => {
  test('REQUEST_CHANGES returns to development up to the review cap, then blocks with kind cap', () => {
    const { machine, state } = machineAt('review');
    for (let i = 1; i <= DEFAULT_LIMITS.maxReviewRejections; i++) {
      state.stage = 'review';
      expect(machine.applyGateOutcome('artifacts', 0, changes)).toBe(false);
      expect({ stage: state.stage, rejections: state.reviewRejections, findings: state.findings }).toEqual({
        stage: 'development',
        rejections: i,
        findings: ['validate the code'],
      });
    }
    state.stage = 'review';
    machine.applyGateOutcome('artifacts', 0, changes);
    expect(state.status).toBe('blocked');
    expect(state.blocked).toMatchObject({
      kind: 'cap',
      stage: 'review',
      gate: 'artifacts',
      gateIndex: 0,
      reason: `review requested changes ${DEFAULT_LIMITS.maxReviewRejections + 1} times; the limit is ${DEFAULT_LIMITS.maxReviewRejections} returns to development`,
    });
  });

  test('a failed gate retries up to maxGateRetries with its findings verbatim; a gate without findings says so', () => {
    const { machine, state } = machineAt('testing', {}, {}, { ...DEFAULT_LIMITS, maxGateRetries: 1 });
    machine.applyGateOutcome('security', 0, { gate: 'security', verdict: 'FAIL', findings: [] });
    expect({ stage: state.stage, retries: state.gateRetries, findings: state.findings }).toEqual({
      stage: 'development',
      retries: 1,
      findings: ['gate security returned FAIL without findings'],
    });
    state.stage = 'testing';
    machine.applyGateOutcome('security', 2, fail(['leaked key in a.ts:3']));
    expect(state.blocked).toMatchObject({
      kind: 'cap',
      gate: 'security',
      gateIndex: 2,
      reason: 'gate security failed on stage testing after 1 retries (limit 1)',
    });
  });

  test('a loop goes down the failure path like a gate, its finding recorded as an event', () => {
    const { machine, state, port } = machineAt('development', {
      history: [{ stage: 'development', enteredAt: '2026-12-01T00:00:00.000Z' }],
    });
    const ok = machine.applyStepResult(
      { activity: 'runAgent', role: 'developer' },
      { costUsd: 0.2, failed: { kind: 'loop', findings: ['the same call 5 times'] } },
    );
    expect(ok).toBe(false);
    expect({
      stage: state.stage,
      attempt: state.attempt,
      retries: state.gateRetries,
      findings: state.findings,
      cost: state.costUsd,
    }).toEqual({ stage: 'development', attempt: 2, retries: 1, findings: ['the same call 5 times'], cost: 0.2 });
    expect(state.events.map((e) => [e.source, e.type, e.summary])).toEqual([
      ['system', 'agent.developer', 'the same call 5 times'],
    ]);
    expect(port.patchesAsked).toEqual(['agent-run-incidents']);
  });

  test('before the incidents patch a loop result is taken as a plain step (old histories replay)', () => {
    const { machine, state } = machineAt('development', {}, { 'agent-run-incidents': false });
    expect(
      machine.applyStepResult(
        { activity: 'runAgent', role: 'developer' },
        { costUsd: 0.1, failed: { kind: 'loop', findings: ['x'] } },
      ),
    ).toBe(true);
    expect(state.events).toEqual([]);
  });
});

describe('steps', () => {
  test('a stop blocks with its kind, the budget reason adding the ledger', () => {
    const { machine, state } = machineAt('analysis');
    machine.applyStepResult(
      { activity: 'runAgent', role: 'analyst' },
      { costUsd: 1.2, stop: { kind: 'budget', reason: 'the agent reached its dollar cap' } },
    );
    expect(state.blocked).toMatchObject({
      kind: 'budget',
      reason: 'the agent reached its dollar cap; budget exhausted: spent $1.20 of $1.00; top up the budget to continue',
    });
  });

  test('the ledger refuses a run once the budget is spent, and rounds sums to a hundredth of a cent', () => {
    const { machine, state } = machineAt('analysis');
    machine.applyStepResult({ activity: 'runAgent', role: 'analyst' }, { costUsd: 0.1 + 0.2, sessionId: 's-1' });
    expect({ cost: state.costUsd, session: state.sessions.analysis }).toEqual({ cost: 0.3, session: 's-1' });
    expect(machine.blockIfBudgetSpent()).toBe(false);
    state.costUsd = 1;
    expect(machine.blockIfBudgetSpent()).toBe(true);
    expect(state.blocked?.kind).toBe('budget');
  });
});

describe('overrides on each kind of block', () => {
  const blockedAt = (blocked: Omit<BlockedInfo, 'stage' | 'at'>, stage: Stage = 'testing') => {
    const made = machineAt(stage);
    made.machine.block(blocked);
    return made;
  };

  test('approve on a gate block records the approval and resumes after that gate', () => {
    const { machine, state } = blockedAt({ kind: 'cap', reason: 'x', gate: 'security', gateIndex: 0 });
    machine.approve({ by: 'ana', reason: 'false positive' });
    expect(state.gateResults.at(-1)).toMatchObject({
      gate: 'security',
      verdict: 'APPROVED_BY_PERSON',
      findings: ['approved by ana: false positive'],
    });
    expect({ status: state.status, resume: state.resume }).toEqual({
      status: 'active',
      resume: { phase: 'gates', fromGate: 1 },
    });
  });

  test('approve on a step block goes on to the gates; retry re-runs the step', () => {
    const a = blockedAt({ kind: 'needs-person', reason: 'no credentials' }, 'analysis');
    a.machine.approve({ by: 'ana' });
    expect(a.state.resume).toEqual({ phase: 'gates', fromGate: 0 });
    const r = blockedAt({ kind: 'activity-error', reason: 'runAgent failed' }, 'analysis');
    r.machine.retry({ by: 'ana' });
    expect(r.state.resume).toEqual({ phase: 'step' });
    expect(r.state.overrides.map((o) => [o.kind, o.by, o.stage])).toEqual([['retry', 'ana', 'analysis']]);
  });

  test('skip-gate on the blocked gate resumes after it; on another gate it waits as a pending skip', () => {
    const { machine, state } = blockedAt({ kind: 'cap', reason: 'x', gate: 'merge', gateIndex: 1 });
    machine.skipGate({ by: 'ana', reason: 'merged by hand' }, 'merge');
    expect(state.gateResults.at(-1)).toMatchObject({ gate: 'merge', verdict: 'SKIPPED' });
    expect(state.resume).toEqual({ phase: 'gates', fromGate: 2 });
    machine.skipGate({ by: 'ana', reason: 'no image' }, 'image-freshness');
    expect(state.pendingSkips).toEqual([{ gate: 'image-freshness', by: 'ana', reason: 'no image' }]);
    expect(machine.takePendingSkip('image-freshness')).toEqual({
      gate: 'image-freshness',
      by: 'ana',
      reason: 'no image',
    });
    expect(state.pendingSkips).toEqual([]);
  });

  test('a top-up lifts a budget block and re-runs the step; elsewhere it only raises the budget', () => {
    const { machine, state } = blockedAt({ kind: 'budget', reason: 'spent' }, 'analysis');
    machine.topUp({ by: 'ana' }, 0.5);
    expect({ budget: state.budgetUsd, status: state.status, resume: state.resume }).toEqual({
      budget: 1.5,
      status: 'active',
      resume: { phase: 'step' },
    });
    const other = blockedAt({ kind: 'cap', reason: 'x' });
    other.machine.topUp({ by: 'ana' }, 2);
    expect({ budget: other.state.budgetUsd, status: other.state.status }).toEqual({ budget: 3, status: 'blocked' });
  });

  test('approve after a failed production rollback clears it and goes on', () => {
    const { machine, state } = machineAt('development', { pendingProductionRollback: { by: 'ana' } });
    const request = state.pendingProductionRollback!;
    machine.applyProductionRollback(request, { ok: false, detail: 'rollback command failed' });
    expect(state.blocked).toMatchObject({ kind: 'needs-person', productionRollback: true });
    machine.approve({ by: 'ops' });
    expect({ pending: state.pendingProductionRollback, status: state.status, resume: state.resume }).toEqual({
      pending: undefined,
      status: 'active',
      resume: undefined,
    });
  });
});

describe('tracker blocks', () => {
  test('an undeliverable notice blocks on top of an existing block; approve drops it and restores that block', () => {
    const { machine, state } = machineAt('testing');
    machine.block({ kind: 'cap', reason: 'gate failed', gate: 'merge', gateIndex: 1 });
    expect(machine.noticesDeliverable()).toBe(true);
    machine.noticeFailed('Plane answered 500');
    expect(state.blocked).toMatchObject({
      kind: 'tracker',
      reason: 'Plane answered 500',
      underlying: { kind: 'cap', gate: 'merge' },
    });
    expect(machine.noticesDeliverable()).toBe(false);
    const notices = state.notices.length;
    machine.approve({ by: 'ana' });
    expect(state.notices.length).toBe(notices - 1);
    expect(state.blocked).toMatchObject({ kind: 'cap', gate: 'merge' });
  });

  test('retry on a tracker block delivers again without touching the work; a tracker block is not itself a notice', () => {
    const { machine, state } = machineAt('analysis');
    const before = state.notices.length;
    machine.noticeFailed('timeout');
    expect(state.notices.length).toBe(before);
    machine.retry({ by: 'ana' });
    expect({ status: state.status, blocked: state.blocked }).toEqual({ status: 'active', blocked: undefined });
  });

  test('after the item ended an undeliverable notice is dropped and logged', () => {
    const { machine, state, port } = machineAt('done', { status: 'done' });
    machine.notify({ kind: 'done', stage: 'done' });
    machine.noticeFailed('gone');
    expect({ status: state.status, notices: state.notices }).toEqual({ status: 'done', notices: [] });
    expect(port.logs).toContain('error final tracker notice not delivered');
  });
});

test('an item that keeps no notices (no tracker) queues none and never asks the tracker patches', () => {
  const { machine, state, port } = machineAt('testing', {}, {}, DEFAULT_LIMITS, { keepsNotices: false });
  machine.applyGateOutcome('artifacts', 0, { gate: 'artifacts', verdict: 'PASS', findings: [] });
  machine.passStage();
  machine.applyInterrupt({ kind: 'cancel', by: 'ana', reason: 'not needed' });
  expect({ notices: state.notices, seq: state.noticeSeq, deliverable: machine.noticesDeliverable() }).toEqual({
    notices: [],
    seq: 0,
    deliverable: false,
  });
  expect(port.patchesAsked).not.toContain('tracker-gate-notices');
  // The same steps with notices kept queue them (what the option changes).
  const kept = machineAt('testing');
  kept.machine.applyGateOutcome('artifacts', 0, { gate: 'artifacts', verdict: 'PASS', findings: [] });
  kept.machine.passStage();
  expect(kept.state.notices.length).toBeGreaterThan(0);
  expect(kept.port.patchesAsked).toContain('tracker-gate-notices');
});

test("a notice's pull request is kept once, and a result that is not one is ignored", () => {
  const { machine, state, port } = machineAt('review');
  machine.recordPullRequest({ number: 17, url: 'https://git.example/acme/shop/pulls/17' });
  machine.recordPullRequest({ number: 17, url: 'https://git.example/acme/shop/pulls/17' });
  expect({ pr: state.pullRequest, published: port.published }).toEqual({
    pr: { number: 17, url: 'https://git.example/acme/shop/pulls/17' },
    published: 1,
  });
  for (const bad of [{ number: 0 }, { number: 1.5 }, undefined]) machine.recordPullRequest(bad);
  machine.recordPullRequest({ number: 18, url: 'javascript:alert(1)' });
  expect(state.pullRequest).toEqual({ number: 18 });
  expect(renderState(state)).toContain('  PR        #18');
  expect(renderDetails(state)).toContain('Pull request: #18');
});

describe('interrupts', () => {
  test('cancel closes the visit and ends the item, telling the tracker', () => {
    const { machine, state } = machineAt('development');
    machine.applyInterrupt({ kind: 'cancel', by: 'ana', reason: 'not needed' });
    expect(state.status).toBe('cancelled');
    expect(state.history.at(-1)?.outcome).toBe('cancelled by ana: not needed');
    expect(state.notices.at(-1)).toMatchObject({ kind: 'cancelled', reason: 'cancelled by ana: not needed' });
  });

  test('rollback moves to the stage with a finding; after the production deploy started it asks for a production rollback', () => {
    const { machine, state } = machineAt('deploy', { productionTouched: true });
    machine.applyInterrupt({ kind: 'rollback', toStage: 'development', by: 'ana' });
    expect({ stage: state.stage, findings: state.findings, pending: state.pendingProductionRollback }).toEqual({
      stage: 'development',
      findings: ['Rolled back from deploy to development by ana'],
      pending: { by: 'ana', reason: undefined },
    });
    const before = machineAt('review');
    before.machine.applyInterrupt({ kind: 'rollback', toStage: 'development', by: 'ana' });
    expect(before.state.pendingProductionRollback).toBeUndefined();
    expect(before.port.patchesAsked).toEqual([]);
  });
});

test('events are deduplicated by key, bounded, and carry title changes', () => {
  const { machine, state } = machineAt('analysis', {}, {}, { ...DEFAULT_LIMITS, eventsKept: 2 });
  machine.recordEvent({ key: 'a', source: 'plane', type: 'issue.updated', title: 'Coupons v2' });
  machine.recordEvent({ key: 'a', source: 'plane', type: 'issue.updated' });
  machine.recordEvent({ key: 'b', source: 'gitea', type: 'push' });
  machine.recordEvent({ key: 'c', source: 'gitea', type: 'push' });
  machine.recordEvent({ key: '', source: 'gitea', type: 'push' });
  expect({ title: state.title, dupes: state.duplicateEventsIgnored, keys: state.events.map((e) => e.key) }).toEqual({
    title: 'Coupons v2',
    dupes: 1,
    keys: ['b', 'c'],
  });
});

test('passing the last gate moves on and clears the findings; the last stage finishes the item', () => {
  const { machine, state, port } = machineAt('testing', { findings: ['old'] });
  machine.passStage();
  expect({ stage: state.stage, findings: state.findings, notice: state.notices.at(-1)?.kind }).toEqual({
    stage: 'deploy-staging',
    findings: [],
    notice: 'stage',
  });
  machine.finish();
  expect(state.status).toBe('done');
  expect(port.published).toBe(2);
});

describe('pause (the ticket moved back in the tracker)', () => {
  test('blocks the item as paused; the ticket back in the trigger state resumes the stage from its step', () => {
    const { machine, state } = machineAt('development');
    machine.applyInterrupt({ kind: 'pause', by: 'priya', reason: 'moved to Backlog' });
    expect(state.status).toBe('blocked');
    expect(state.blocked).toMatchObject({
      kind: 'paused',
      reason: 'paused by priya: moved to Backlog',
      stage: 'development',
    });
    expect(() => validatePause(state, { by: 'priya' })).toThrow('already paused');
    expect(() => validateApprove(state, { by: 'priya' })).toThrow('retry resumes it');
    // Other events do not resume it.
    machine.recordEvent({ key: 'k1', source: 'plane', type: 'plane.comment', summary: 'a comment' });
    expect(state.status).toBe('blocked');
    machine.recordEvent({
      key: 'k2',
      source: 'plane',
      type: 'ticket.created',
      summary: 'moved to the trigger state by priya',
    });
    expect(state.status).toBe('active');
    expect(state.resume).toEqual({ phase: 'step' });
    expect(state.overrides.at(-1)).toMatchObject({
      kind: 'retry',
      by: 'plane',
      reason: 'resumed: moved to the trigger state by priya',
    });
  });

  test('a ticket.created event does nothing to an item that is not paused', () => {
    const { machine, state } = machineAt('review', {
      status: 'blocked',
      blocked: { kind: 'cap', reason: 'review cap', stage: 'review', at: '2026-12-01T00:00:00.000Z' },
    });
    machine.recordEvent({ key: 'k3', source: 'plane', type: 'ticket.created' });
    expect(state.status).toBe('blocked');
    expect(() => validatePause({ ...state, status: 'done' }, { by: 'priya' })).toThrow('nothing can change it');
  });
});

describe('the CI gate (ADR-0025)', () => {
  const HEAD = 'a'.repeat(40);
  const OLD = 'b'.repeat(40);
  const status = (context: string, state: string, sha = HEAD, extra: Record<string, string> = {}) => ({
    key: `status-${context}-${state}-${sha}-${JSON.stringify(extra)}`,
    source: 'gitea' as const,
    type: `gitea.status.${state}`,
    ci: { sha, context, state, ...extra },
  });
  const REQUIRED = ['ci/test', 'ci/lint'];

  test("a pushed head replaces the old one's statuses; a status for another commit counts for nothing", () => {
    const { machine, state } = machineAt('development', {
      headSha: OLD,
      ciStatuses: [{ sha: OLD, context: 'ci/test', state: 'success' }],
    });
    machine.applyStepResult({ activity: 'runAgent', role: 'developer' }, { costUsd: 0, head: HEAD });
    expect(state.headSha).toBe(HEAD);
    expect(state.ciStatuses).toEqual([]);
    machine.recordEvent(status('ci/test', 'success', OLD));
    expect(state.ciStatuses).toEqual([]);
    expect(state.events.map((e) => e.type)).toEqual(['gitea.status.success']);
  });

  test('pending waits; all required green passes; a context outside the list does not matter', () => {
    const { machine, state } = machineAt('development', { headSha: HEAD });
    machine.recordEvent(status('ci/test', 'pending'));
    machine.recordEvent(status('ci/other', 'failure'));
    expect(ciVerdict(state, REQUIRED)).toBeUndefined();
    expect(ciMissing(state, REQUIRED)).toEqual(['ci/test (pending)', 'ci/lint (no status)']);
    machine.recordEvent(status('ci/test', 'success'));
    machine.recordEvent(status('ci/lint', 'warning'));
    expect(ciVerdict(state, REQUIRED)).toEqual({ gate: 'ci', verdict: 'PASS', findings: [] });
  });

  test('a failed required context fails at once with its description and link verbatim', () => {
    const { machine, state } = machineAt('development', { headSha: HEAD });
    machine.recordEvent(
      status('ci/test', 'failure', HEAD, {
        description: '3 tests failed: coupon expiry',
        targetUrl: 'https://ci.acme/run/7',
      }),
    );
    expect(ciVerdict(state, REQUIRED)).toEqual({
      gate: 'ci',
      verdict: 'FAIL',
      findings: [
        `CI context "ci/test" reported failure on ${HEAD}: 3 tests failed: coupon expiry (https://ci.acme/run/7)`,
      ],
    });
  });

  test('a status that is not one (no commit id, no context) is ignored', () => {
    const { machine, state } = machineAt('development', { headSha: HEAD });
    machine.recordEvent({ ...status('ci/test', 'success'), ci: { sha: 'HEAD', context: 'ci/test', state: 'success' } });
    machine.recordEvent({ ...status('', 'success'), key: 'no-context' });
    expect(state.ciStatuses ?? []).toEqual([]);
  });

  test('the timeout blocks with the contexts still missing; retry waits again from the CI gate', () => {
    const { machine, state } = machineAt('development', { headSha: HEAD });
    machine.recordEvent(status('ci/test', 'success'));
    machine.blockCiTimeout(REQUIRED, 'ci', 1, 1_800_000);
    expect(state.blocked).toMatchObject({
      kind: 'ci',
      gate: 'ci',
      gateIndex: 1,
      reason: `CI did not report on ${HEAD} within 1800 s: waiting for ci/lint (no status)`,
    });
    machine.retry({ by: 'ops' });
    expect(state.resume).toEqual({ phase: 'gates', fromGate: 1 });
  });
});
