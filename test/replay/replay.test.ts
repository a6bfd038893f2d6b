// Replays every recorded history (test/histories) against the current workflow code, so a change
// that would break running work items fails CI. Record new histories with `npm run test:record-histories`.
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { UNTRACED_SINKS } from '../../src/temporal/workflow-bundle-file';
import { workflowBundle } from '../support/temporal';
import { FOLD_MARKER, FOLDED_PATCHES } from '../../src/workflows/patches';

const HISTORIES = path.resolve(__dirname, '../histories');

function recordedHistories(): { workflowId: string; history: unknown }[] {
  return fs
    .readdirSync(HISTORIES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      workflowId: path.basename(f, '.json'),
      history: JSON.parse(fs.readFileSync(path.join(HISTORIES, f), 'utf8')),
    }));
}

async function replayAll(bundle: { code: string }): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle, sinks: UNTRACED_SINKS },
    recordedHistories(),
  )) {
    results.set(result.workflowId, result.error);
  }
  return results;
}

beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
});

const SCENARIOS = [
  'happy-path',
  'review-rejections-blocked',
  'gate-failure-findings',
  'approve-after-block',
  'rollback-while-running',
  'events-dedup',
  'not-implemented-blocked',
];

// v1: before tracker sync; v2: tracker sync without gate notices; v3: before the agent runner
// (budget check, workspace release) and the merge lease; v4: before the tracker courier
// (notices one by one ahead of the next step) and coalesced search-attribute upserts; v5: before
// command summaries and the lease wait's timer (lease-pair: two items contending for the merge
// lease, one waits); v8: before the fold (ADR-0032), each patch id asked and marked one by one;
// unprefixed: current code.
const GENERATIONS = ['v1-', 'v2-', 'v3-', 'v4-', 'v5-', 'v8-', ''];

/** The work item's scenarios recorded on the code just before the fold: all of them. */
const BEFORE_FOLD = [
  ...SCENARIOS,
  'budget-top-up',
  'production-rollback',
  'agent-run-incidents',
  'lease-pair-1',
  'lease-pair-2',
  'host-routed',
  'host-lost',
  'host-retried',
  'plane-pause',
  'ci-wait',
  'human-review',
  'upgrade-continue-as-new',
  'untracked',
].map((s) => `v8-${s}`);

test('the recorded scenarios are present for every generation of the workflow', () => {
  const names = recordedHistories().map((h) => h.workflowId);
  expect(names).toEqual(
    expect.arrayContaining([
      ...GENERATIONS.flatMap((g) => SCENARIOS.map((s) => `${g}${s}`)),
      'budget-top-up',
      'production-rollback',
      'agent-run-incidents',
      'v4-budget-top-up',
      'v4-production-rollback',
      'v4-agent-run-incidents',
      ...['v5-', ''].flatMap((g) => [
        `${g}budget-top-up`,
        `${g}production-rollback`,
        `${g}agent-run-incidents`,
        `${g}lease-pair-1`,
        `${g}lease-pair-2`,
      ]),
      // Host routing (ADR-0021): runs on a host's queue, a run lost with its host; v6: through a
      // claim first, before runs were taken straight from the pool's queue (ADR-0023), with a
      // retry on the host that ran the failed attempt.
      ...['v6-', ''].flatMap((g) => [`${g}host-routed`, `${g}host-lost`]),
      'host-retried',
      // A person's state changes in Plane (ADR-0022): paused, resumed, done by hand.
      'plane-pause',
      // The CI gate (ADR-0025): a failed status sends the work back, green lets it through.
      'ci-wait',
      // A person's REQUEST_CHANGES on the PR (ADR-0026): back to development, then capped.
      'human-review',
      // The catch-up job reading a missed CI status from Gitea (patch ci-catch-up).
      'reconcile-ci',
      // Worker Versioning (ADR-0028): the first run of an item upgraded from build b1 to b2,
      // which continued as new on b2 (patch upgrade-continue-as-new).
      'upgrade-continue-as-new',
      // A project without a tracker (trackers: false); v7: before such an item kept no notices
      // (patch untracked-keeps-no-notices), when it queued them and its courier dropped them.
      ...['v7-', ''].map((g) => `${g}untracked`),
      ...BEFORE_FOLD,
    ]),
  );
});

test('each generation carries exactly the patch markers of its time', () => {
  const patchIds = (h: { history: unknown }): string[] =>
    (
      (
        h.history as {
          events: {
            markerRecordedEventAttributes?: {
              markerName: string;
              details: Record<string, { payloads: { data: string }[] }>;
            };
          }[];
        }
      ).events ?? []
    )
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .map(
        (e) =>
          JSON.parse(
            Buffer.from(e.markerRecordedEventAttributes!.details['patch-data']!.payloads[0]!.data, 'base64').toString(
              'utf8',
            ),
          ).id,
      );
  const byName = new Map(recordedHistories().map((h) => [h.workflowId, patchIds(h)]));
  expect(byName.get('v8-happy-path')).toEqual([
    'coalesced-publish',
    'tracker-sync',
    'tracker-courier',
    'tracker-gate-notices',
    'merge-lease',
    'workspace-release',
  ]);
  expect(byName.get('v4-happy-path')).toEqual([
    'tracker-sync',
    'tracker-gate-notices',
    'merge-lease',
    'workspace-release',
  ]);
  expect(byName.get('v8-budget-top-up')).toEqual([
    'coalesced-publish',
    'tracker-sync',
    'tracker-courier',
    'tracker-gate-notices',
    'agent-budget',
  ]);
  // Both items of the pair waited behind the lease's queue at least once or were granted at once;
  // only the current code marks the wait with a timer.
  for (const n of ['1', '2']) {
    expect(byName.get(`v8-lease-pair-${n}`)).toContain('lease-wait-timer');
    expect(byName.get(`v5-lease-pair-${n}`)).not.toContain('lease-wait-timer');
  }
  for (const scenario of ['host-routed', 'host-lost']) {
    expect(byName.get(`v8-${scenario}`)).toContain('host-pool-queues');
    expect(byName.get(`v6-${scenario}`)).not.toContain('host-pool-queues');
  }
  expect(byName.get('v8-human-review')).toContain('human-review');
  expect(byName.get('v8-happy-path')).not.toContain('human-review');
  expect(byName.get('v8-upgrade-continue-as-new')).toContain('upgrade-continue-as-new');
  expect(byName.get('v8-happy-path')).not.toContain('upgrade-continue-as-new');
  expect(byName.get('v8-production-rollback')).toContain('production-rollback');
  expect(byName.get('v8-agent-run-incidents')).toContain('agent-run-incidents');
  expect(byName.get('v3-happy-path')).toEqual(['tracker-sync', 'tracker-gate-notices']);
  expect(byName.get('v2-happy-path')).toEqual(['tracker-sync']);
  expect(byName.get('v1-happy-path')).toEqual([]);
  expect(byName.get('v8-untracked')).toEqual([
    'untracked-keeps-no-notices',
    'coalesced-publish',
    'merge-lease',
    'workspace-release',
  ]);
  // Before ADR-0029 an item without a tracker asked the same patches as one with a tracker.
  expect(byName.get('v7-untracked')).toEqual(byName.get('v8-happy-path'));
  expect(byName.get('v8-happy-path')).not.toContain('untracked-keeps-no-notices');
  // Since the fold (ADR-0032) a run holds its marker alone, whatever it went through; each id the
  // fold holds is asked one by one only in the histories from before it.
  const current = [...byName].filter(([name]) => !/^v\d+-/.test(name) && name !== 'reconcile-ci');
  expect(current.map(([name]) => name).sort()).toEqual(BEFORE_FOLD.map((n) => n.slice('v8-'.length)).sort());
  for (const [, ids] of current) expect(ids).toEqual([FOLD_MARKER]);
  const askedBeforeTheFold = new Set(BEFORE_FOLD.flatMap((name) => byName.get(name) ?? []));
  expect([...askedBeforeTheFold].sort()).toEqual([...FOLDED_PATCHES].sort());
});

test('every recorded history replays against the current workflow code', async () => {
  const results = await replayAll(workflowBundle());
  expect(results.size).toBe(recordedHistories().length);
  // Every failure at once: one history that fails must not hide the next.
  const failures = [...results].flatMap(([id, error]) => (error ? [{ id, error: error.message }] : []));
  expect(failures).toEqual([]);
});

test('an incompatible workflow change is caught by replay', async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../fixtures/incompatible-workflow/index.ts'),
    logger: new DefaultLogger('ERROR'),
  });
  const results = await replayAll({ code });
  expect(results.size).toBe(recordedHistories().length);
  for (const [, error] of results) expect(error?.name).toBe('DeterminismViolationError');
}, 120_000);
