// The per-repository merge lease on the real dev server, with the real lease workflow and the
// real merge gate on a real repository: two items merge one after the other, and a holder that
// disappears without releasing does not lock the repository.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { loadConfig, type AppConfig } from '../../src/config';
import {
  itemBranch,
  type GateInput,
  type GateOutcome,
  type LeaseState,
  type WorkItemInput,
  type WorkItemState,
} from '../../src/domain';
import { leaseStateQuery } from '../../src/workflows/lease-messages';
import { leaseWorkflowId } from '../../src/activities/lease';
import { runUntilCancelled, scriptedActivities, type StepScript } from '../support/doubles';
import { createRepo, type TestRepo } from '../support/git-fixtures';
import { startTemporal } from '../support/temporal';
import {
  startItem,
  taskQueue,
  testInput,
  waitForState,
  withWorker,
  reachedStaging,
  recordHistory,
  stagingOrBlocked,
} from '../support/work-item-harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

function configFor(repo: TestRepo, queue: string, extra = ''): AppConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lease-'));
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n${extra}`,
  );
  return loadConfig(
    {
      ORCH_PROJECTS_FILE: 'projects.yaml',
      ORCH_DATA_DIR: 'data',
      ORCH_TASK_QUEUE: queue,
      ORCH_MERGE_LEASE_CHECK_MS: '300',
    },
    dir,
  );
}

/** Real lease and merge gate; scripted agents and other gates. Records when each merge ran. */
function activitiesFor(
  config: AppConfig,
  merges: { ticket: string; start: number; end: number }[],
  hold?: (input: GateInput) => Promise<void>,
  step?: StepScript,
) {
  const real = createActivities(config, { client: env.client });
  const doubles = scriptedActivities({ step });
  return {
    ...doubles.activities,
    requestMergeLease: real.requestMergeLease,
    holderRunning: real.holderRunning,
    runGate: async (input: GateInput): Promise<GateOutcome> => {
      if (input.gate !== 'merge') return { gate: input.gate, verdict: 'PASS', findings: [] };
      const start = Date.now();
      await hold?.(input);
      // Long enough that two merges without the lease would overlap.
      await new Promise((r) => setTimeout(r, 300));
      const outcome = await real.runGate(input);
      merges.push({ ticket: input.ticket, start, end: Date.now() });
      return outcome;
    },
  };
}

test('two items of one repository merge one after the other, the second rebased onto the first', async () => {
  const repo = createRepo();
  const queue = taskQueue('lease-fifo');
  const config = configFor(repo, queue);
  const [a, b] = [testInput({ title: 'Coupons' }), testInput({ title: 'Gift cards' })];
  repo.commit(itemBranch(a.ticket, a.title), { 'src/coupon.js': 'exports.c = 1;\n' }, `feat(${a.ticket}): coupons`);
  repo.commit(itemBranch(b.ticket, b.title), { 'src/gift.js': 'exports.g = 1;\n' }, `feat(${b.ticket}): gift cards`);
  const merges: { ticket: string; start: number; end: number }[] = [];
  await withWorker(env, queue, activitiesFor(config, merges), async () => {
    const handles = await Promise.all([startItem(env, queue, a), startItem(env, queue, b)]);
    const states = await Promise.all(handles.map((h) => waitForState(h, stagingOrBlocked, 60_000)));
    expect(states.map(reachedStaging)).toEqual([true, true]);
    const lease = await env.client.workflow.getHandle(leaseWorkflowId(repo.origin)).query(leaseStateQuery);
    expect(lease).toMatchObject({ queue: [], grants: 2, expired: [] });
    expect(lease.holder).toBeUndefined();
    // Whichever came second waited for the lease: both histories go to the replay test.
    await recordHistory(env, handles[0] as WorkflowHandle, 'lease-pair-1');
    await recordHistory(env, handles[1] as WorkflowHandle, 'lease-pair-2');
  });
  // One merge run per item: a retried merge (e.g. a heartbeat timeout) would show here first.
  expect(merges.map((m) => m.ticket).sort()).toEqual([a.ticket, b.ticket].sort());
  const [first, second] = [...merges].sort((x, y) => x.start - y.start) as [(typeof merges)[0], (typeof merges)[0]];
  expect(second.start).toBeGreaterThanOrEqual(first.end);
  repo.git('fetch', '--quiet', 'origin');
  const subjects = repo.git('log', '--first-parent', '--format=%s', 'origin/main').trim().split('\n');
  expect(subjects.slice(0, 2)).toEqual([
    `Merge ${itemBranch(second.ticket, second.ticket === a.ticket ? a.title : b.title)} (${second.ticket})`,
    `Merge ${itemBranch(first.ticket, first.ticket === a.ticket ? a.title : b.title)} (${first.ticket})`,
  ]);
  // The second branch was rebased onto main after the first merge.
  const secondBranch = second.ticket === a.ticket ? itemBranch(a.ticket, a.title) : itemBranch(b.ticket, b.title);
  expect(repo.git('merge-base', '--is-ancestor', 'origin/main~1', `origin/${secondBranch}`)).toBe('');
});

test('a holder that disappears without releasing loses the lease; the next item merges', async () => {
  const repo = createRepo();
  const queue = taskQueue('lease-expiry');
  const config = configFor(repo, queue);
  const [a, b] = [testInput({ title: 'Stuck' }), testInput({ title: 'Waiting' })];
  repo.commit(itemBranch(b.ticket, b.title), { 'src/waiting.js': 'exports.w = 1;\n' }, `feat(${b.ticket}): waiting`);
  const merges: { ticket: string; start: number; end: number }[] = [];
  let aHolds!: () => void;
  const aHolding = new Promise<void>((r) => (aHolds = r));
  // A's merge never finishes while A exists: it hangs (heartbeating) while holding the lease.
  const hold = async (input: GateInput): Promise<void> => {
    if (input.ticket !== a.ticket) return;
    aHolds();
    await runUntilCancelled(() => undefined);
  };
  await withWorker(env, queue, activitiesFor(config, merges, hold), async () => {
    const handleA = await startItem(env, queue, a);
    await aHolding;
    const handleB = await startItem(env, queue, b);
    const leaseHandle = env.client.workflow.getHandle(leaseWorkflowId(repo.origin));
    for (let i = 0; i < 100; i++) {
      const lease: LeaseState = await leaseHandle.query(leaseStateQuery);
      if (lease.queue.some((r) => r.ticket === b.ticket)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // A vanishes without releasing (an operator terminated it, or it timed out).
    await handleA.terminate('test: holder disappears');
    const stateB = await waitForState(handleB, stagingOrBlocked, 60_000);
    expect(reachedStaging(stateB)).toBe(true);
    const lease: LeaseState = await leaseHandle.query(leaseStateQuery);
    expect(lease.expired).toEqual([
      expect.objectContaining({ ticket: a.ticket, why: 'its workflow is no longer running' }),
    ]);
    expect(lease.holder).toBeUndefined();
  });
  expect(merges.map((m) => m.ticket)).toEqual([b.ticket]);
});

/** Both items reach the merge gate together; resolves with their handles once both left it. */
async function raceToMerge(
  config: AppConfig,
  queue: string,
  items: WorkItemInput[],
  step: StepScript,
  until: (s: WorkItemState) => boolean,
) {
  const merges: { ticket: string; start: number; end: number }[] = [];
  const doubles = activitiesFor(config, merges, undefined, step);
  return withWorker(env, queue, doubles, async () => {
    const handles = await Promise.all(items.map((i) => startItem(env, queue, i)));
    const states = await Promise.all(handles.map((h) => waitForState(h, until, 90_000)));
    return { states, merges };
  });
}

test('the second item of a conflicting pair goes back to development with the files, is fixed there and merges', async () => {
  const repo = createRepo();
  const queue = taskQueue('lease-conflict');
  const config = configFor(repo, queue);
  const items = [testInput({ title: 'Summer prices' }), testInput({ title: 'Winter prices' })];
  for (const [i, item] of items.entries())
    repo.commit(
      itemBranch(item.ticket, item.title),
      { 'src/price.js': `exports.price = ${10 + i};\n` },
      `feat(${item.ticket}): prices`,
    );
  // The developer, sent back with the conflict, starts the branch again from main.
  const developer: StepScript = (input) => {
    if (input.stage === 'development' && input.findings.some((f) => f.includes('conflicts in: src/price.js'))) {
      repo.git('fetch', '--quiet', 'origin');
      repo.git('checkout', '--quiet', '-B', input.branch!, 'origin/main');
      fs.writeFileSync(path.join(repo.work, 'src/price-rules.js'), `exports.rule = '${input.ticket}';\n`);
      repo.git('add', '-A');
      repo.git('commit', '--quiet', '-m', `fix(${input.ticket}): prices on top of main`);
      repo.git('push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${input.branch!}`);
    }
    return { costUsd: 0.1 };
  };
  const { states } = await raceToMerge(config, queue, items, developer, stagingOrBlocked);
  expect(states.map(reachedStaging)).toEqual([true, true]);
  const second = states.find((s) => s.history.some((v) => v.outcome === 'FAIL from gate merge: sent to development'));
  expect(second).toBeDefined();
  expect(states.filter((s) => s !== second).every((s) => s.history.every((v) => !v.outcome?.startsWith('FAIL')))).toBe(
    true,
  );
  const conflict = second!.gateResults.find((g) => g.gate === 'merge' && g.verdict === 'FAIL');
  expect(conflict?.findings).toEqual([
    `rebasing ${second!.branch} onto main conflicts in: src/price.js; rebase the branch onto main and resolve them`,
  ]);
  repo.git('fetch', '--quiet', 'origin');
  const merged = repo.git('log', '--first-parent', '--format=%s', 'origin/main').trim().split('\n');
  expect(merged.slice(0, 2)).toEqual(
    expect.arrayContaining(items.map((i) => `Merge ${itemBranch(i.ticket, i.title)} (${i.ticket})`)),
  );
  expect(repo.git('show', 'origin/main:src/price-rules.js')).toBe(`exports.rule = '${second!.ticket}';\n`);
});

test('tests that fail only on top of the other item send the second back to development with their output', async () => {
  const repo = createRepo({
    'README.md': '# shop\n',
    'check.sh':
      'n=$(ls src/flags | wc -l)\ntest "$n" -le 1 || { echo "at most one feature flag may be on, found $n"; exit 1; }\n',
    'src/flags/.keep': '',
  });
  const queue = taskQueue('lease-tests-fail');
  const config = configFor(repo, queue, '    commands:\n      test: sh check.sh\n');
  const limits = { maxReviewRejections: 3, maxGateRetries: 1, dedupKeysKept: 500, eventsKept: 50 };
  const items = [testInput({ title: 'Dark mode', limits }), testInput({ title: 'Beta search', limits })];
  for (const item of items)
    repo.commit(
      itemBranch(item.ticket, item.title),
      { [`src/flags/${item.ticket}`]: 'on\n' },
      `feat(${item.ticket}): flag`,
    );
  const { states } = await raceToMerge(config, queue, items, () => ({ costUsd: 0.1 }), stagingOrBlocked);
  const [passed, failed] = states[0]!.status === 'blocked' ? [states[1]!, states[0]!] : [states[0]!, states[1]!];
  expect(reachedStaging(passed)).toBe(true);
  // Sent back once with the output, then blocked at the retry cap: nothing about it was merged.
  expect(failed).toMatchObject({ status: 'blocked', stage: 'testing', blocked: { kind: 'cap', gate: 'merge' } });
  expect(failed.history.filter((v) => v.outcome === 'FAIL from gate merge: sent to development')).toHaveLength(1);
  const finding = failed.gateResults.find((g) => g.gate === 'merge' && g.verdict === 'FAIL')?.findings[0];
  expect(finding).toBe(
    `tests failed after rebasing ${failed.branch} onto main (\`sh check.sh\` exited 1); last lines:\nat most one feature flag may be on, found 2`,
  );
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('ls-tree', '--name-only', 'origin/main', 'src/flags/').trim().split('\n').sort()).toEqual([
    'src/flags/.keep',
    `src/flags/${passed.ticket}`,
  ]);
});
