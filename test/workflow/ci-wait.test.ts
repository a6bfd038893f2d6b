// The CI gate (ADR-0025) on the real dev server: development waits for the project's required
// commit-status contexts on the head the developer pushed. A failure sends the work back with the
// CI's words verbatim; green lets it through; silence blocks it, and retry waits again. Statuses
// arrive as real-format signed Gitea deliveries through the API, which finds the item by its head.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workItemWorkflowId, type CiRequirement, type WorkItemState } from '../../src/domain';
import { eventSignal, retryUpdate } from '../../src/workflows/messages';
import { createCiCatchUpActivities } from '../../src/activities/ci-catch-up';
import { createReconcileActivities } from '../../src/activities/reconcile';
import { GiteaClient } from '../../src/tracker/gitea-client';
import { reconcileTracker } from '../../src/workflows/reconcile';
import { NO_PLANE, startTestApi, type TestApi } from '../support/api-harness';
import { fakeGitea } from '../support/fake-trackers';
import { GITEA_TOKEN } from '../support/test-secrets';
import { scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import { fixtureConfig, signed } from '../support/webhook-fixtures';
import { recordHistory, startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let api: TestApi;
const queue = taskQueue('ci-wait');
beforeAll(async () => {
  env = await startTemporal();
  api = await startTestApi({
    client: env.client,
    config: fixtureConfig({ ORCH_TASK_QUEUE: queue }),
    planeDirectory: NO_PLANE,
  });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

const FIRST = '1'.repeat(40);
const FIX = '2'.repeat(40);
const CI: CiRequirement = { requiredContexts: ['ci/test', 'ci/lint'], timeoutMs: 60_000 };

/** A commit status as Gitea delivers it (no branches), signed with the hook's secret. */
function statusDelivery(sha: string, context: string, state: string, extra: Record<string, string> = {}) {
  const repository = { id: 3, name: 'shop', full_name: 'acme/shop' };
  return signed(
    'gitea',
    {
      id: Date.now(),
      sha,
      context,
      state,
      commit: { id: sha },
      branches: [],
      repository,
      sender: { id: 9, login: 'ci-bot' },
      ...extra,
    },
    { 'X-Gitea-Event': 'status', 'X-Gitea-Event-Type': 'status', 'X-Gitea-Delivery': crypto.randomUUID() },
  );
}

async function post(
  delivery: ReturnType<typeof statusDelivery>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${api.url}/webhooks/gitea`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Development's step ran and pushed `sha`, and visibility knows it (the API finds items there). */
async function waitingOnHead(workflowId: string, sha: string): Promise<void> {
  const handle = env.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + 30_000;
  while ((await handle.describe()).searchAttributes.OrchHeadSha?.[0] !== sha) {
    if (Date.now() > deadline) throw new Error(`the item never published head ${sha}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a failed required context sends the work back with its words; a stale status changes nothing; green goes on', async () => {
  const scripted = scriptedActivities({
    step: (input, visit) => ({
      costUsd: 0.1,
      ...(input.stage === 'development' ? { head: visit === 1 ? FIRST : FIX } : {}),
    }),
  });
  await withWorker(env, queue, scripted.activities, async () => {
    const input = testInput({ ci: CI });
    const handle = await startItem(env, queue, input);
    const id = workItemWorkflowId(input.project, input.ticket);
    await waitingOnHead(id, FIRST);

    // Pending first: the item only shows it.
    expect(await post(statusDelivery(FIRST, 'ci/lint', 'pending'))).toMatchObject({
      status: 202,
      body: { outcome: 'signalled', workflowId: id },
    });
    const failed = await post(
      statusDelivery(FIRST, 'ci/test', 'failure', {
        description: '3 tests failed: coupon expiry',
        target_url: 'https://ci.acme.dev/repos/shop/pipeline/7',
      }),
    );
    expect(failed.body).toMatchObject({ outcome: 'signalled', workflowId: id });
    await waitingOnHead(id, FIX);

    // The developer's second run was handed CI's words verbatim.
    const developer = scripted.stepCalls.filter((c) => c.stage === 'development');
    expect(developer).toHaveLength(2);
    expect(developer[1]?.findings).toEqual([
      `CI context "ci/test" reported failure on ${FIRST}: 3 tests failed: coupon expiry (https://ci.acme.dev/repos/shop/pipeline/7)`,
    ]);

    // The old head's late success is no item's head any more: answered, recorded nowhere.
    expect(await post(statusDelivery(FIRST, 'ci/test', 'success'))).toEqual({
      status: 202,
      body: { outcome: 'ignored', reason: `commit ${FIRST} is no work item's current head` },
    });
    expect((await post(statusDelivery(FIX, 'ci/test', 'success'))).body.outcome).toBe('signalled');
    let state: WorkItemState = await handle.query('state');
    expect(state.stage).toBe('development');
    expect((await post(statusDelivery(FIX, 'ci/lint', 'success'))).body.outcome).toBe('signalled');

    state = await waitForState(handle, (s) => s.status === 'done', 30_000);
    const ci = state.gateResults.filter((g) => g.gate === 'ci');
    expect(ci.map((g) => g.verdict)).toEqual(['FAIL', 'PASS']);
    expect(state.gateRetries).toBe(1);
    await recordHistory(env, handle, 'ci-wait');
  });
});

test('no status within the timeout blocks the item naming what is missing; retry waits again without a new run', async () => {
  const scripted = scriptedActivities({
    step: (input) => ({ costUsd: 0, ...(input.stage === 'development' ? { head: FIRST } : {}) }),
  });
  await withWorker(env, queue, scripted.activities, async () => {
    const input = testInput({ ci: { requiredContexts: ['ci/test'], timeoutMs: 1500 } });
    const handle = await startItem(env, queue, input);
    const blocked = await waitForState(handle, (s) => s.status === 'blocked', 30_000);
    expect(blocked.blocked).toMatchObject({
      kind: 'ci',
      stage: 'development',
      reason: `CI did not report on ${FIRST} within 2 s: waiting for ci/test (no status)`,
    });
    await handle.executeUpdate(retryUpdate, { args: [{ by: 'ops', reason: 'CI runner back' }] });
    await waitForState(handle, (s) => s.status === 'active');
    await handle.signal(eventSignal, {
      key: 'late-green',
      source: 'gitea',
      type: 'gitea.status.success',
      ci: { sha: FIRST, context: 'ci/test', state: 'success' },
    });
    const done = await waitForState(handle, (s) => s.status === 'done', 30_000);
    expect(done.gateResults.filter((g) => g.gate === 'ci').map((g) => g.verdict)).toEqual(['PASS']);
    // Retry waited for CI again: the developer ran once.
    expect(scripted.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(1);
  });
});

test("a later push (the tester's) is not merged until CI is green on it; red there sends the work back", async () => {
  const TESTED = '3'.repeat(40);
  const scripted = scriptedActivities({
    step: (input, visit) => ({
      costUsd: 0,
      ...(input.stage === 'development' ? { head: visit === 1 ? FIRST : FIX } : {}),
      ...(input.stage === 'testing' && visit === 1 ? { head: TESTED } : {}),
    }),
  });
  const ci = { requiredContexts: ['ci/test'], timeoutMs: 60_000 };
  await withWorker(env, queue, scripted.activities, async () => {
    const input = testInput({ ci });
    const handle = await startItem(env, queue, input);
    const id = workItemWorkflowId(input.project, input.ticket);
    await waitingOnHead(id, FIRST);
    expect((await post(statusDelivery(FIRST, 'ci/test', 'success'))).body.outcome).toBe('signalled');
    await waitingOnHead(id, TESTED);
    // The testing stage's artifacts and security gates ran; the merge waits for CI on the new head.
    await waitForState(handle, (s) => s.gateResults.some((g) => g.stage === 'testing' && g.gate === 'security'));
    expect(scripted.gateCalls.filter((g) => g.gate === 'merge')).toEqual([]);
    expect((await post(statusDelivery(TESTED, 'ci/test', 'error', { description: 'runner lost' }))).body.outcome).toBe(
      'signalled',
    );
    await waitingOnHead(id, FIX);
    const developer = scripted.stepCalls.filter((c) => c.stage === 'development');
    expect(developer[1]?.findings).toEqual([`CI context "ci/test" reported error on ${TESTED}: runner lost`]);
    // Development's CI gate on the fix, then the merge of the same (green) head goes straight on.
    expect((await post(statusDelivery(FIX, 'ci/test', 'success'))).body.outcome).toBe('signalled');
    const done = await waitForState(handle, (s) => s.status === 'done', 30_000);
    expect(scripted.gateCalls.filter((g) => g.gate === 'merge')).toHaveLength(1);
    expect(done.gateResults.filter((g) => g.gate === 'ci').map((g) => `${g.stage} ${g.verdict}`)).toEqual([
      'development PASS',
      'testing FAIL',
      'development PASS',
    ]);
  });
});

test("a status whose delivery was missed is read from Gitea by the catch-up job, and the item CI's silence blocked goes on", async () => {
  const gitea = await fakeGitea({ token: GITEA_TOKEN, repo: 'acme/shop' });
  const giteaClient = new GiteaClient({ baseUrl: gitea.url, token: GITEA_TOKEN, http: { baseDelayMs: 1 } });
  const base = fixtureConfig({ ORCH_TASK_QUEUE: queue });
  const shop = base.projects.shop!;
  const config = { ...base, projects: { shop: { ...shop, ci: { requiredContexts: ['ci/test'], timeoutMs: 1500 } } } };
  const scripted = scriptedActivities({
    step: (input) => ({ costUsd: 0, ...(input.stage === 'development' ? { head: FIRST } : {}) }),
  });
  const activities = {
    ...scripted.activities,
    ...createReconcileActivities({ config, client: env.client }),
    ...createCiCatchUpActivities({ config, client: env.client, gitea: giteaClient }),
  };
  try {
    await withWorker(env, queue, activities, async () => {
      const input = testInput({ ci: { requiredContexts: ['ci/test'], timeoutMs: 1500 } });
      const handle = await startItem(env, queue, input);
      await waitForState(handle, (s) => s.blocked?.kind === 'ci', 30_000);
      await waitingOnHead(handle.workflowId, FIRST);
      // CI reports to Gitea, but its delivery never reaches the API; another context does not count.
      await giteaClient.setStatus('acme/shop', FIRST, 'pending', 'ci/test', 'running', 'https://ci.acme.dev/7');
      await giteaClient.setStatus('acme/shop', FIRST, 'success', 'ci/test', 'all green', 'https://ci.acme.dev/7');
      await giteaClient.setStatus('acme/shop', FIRST, 'failure', 'ci/lint', 'not required');

      const catchUp = (id: string) =>
        env.client.workflow.execute(reconcileTracker, {
          taskQueue: queue,
          workflowId: id,
          args: [{ timeoutMs: 20_000, heartbeatMs: 10_000, ciCatchUp: true }],
        });
      const first = await catchUp(`catch-up-${input.ticket}`);
      expect(first.ci).toEqual({
        statuses: [`${input.ticket} ci/test success`],
        retried: [input.ticket],
        skipped: [],
        failed: [],
      });
      const done = await waitForState(handle, (s) => s.status === 'done', 30_000);
      expect(done.ciStatuses?.find((s) => s.context === 'ci/test')).toEqual({
        sha: FIRST,
        context: 'ci/test',
        state: 'success',
        description: 'all green',
        targetUrl: 'https://ci.acme.dev/7',
      });
      expect(done.gateResults.filter((g) => g.gate === 'ci').map((g) => g.verdict)).toEqual(['PASS']);
      expect(scripted.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(1);
      expect(done.events.some((e) => e.summary?.includes('read from Gitea by the catch-up job'))).toBe(true);
      await recordHistory(env, env.client.workflow.getHandle(`catch-up-${input.ticket}`), 'reconcile-ci');
    });
  } finally {
    await gitea.close();
  }
});
