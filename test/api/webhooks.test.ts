// The webhook API over real HTTP, signalling the real dev server.
import { createHmac } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { createMetrics } from '../../src/api/metrics';
import { listenMetrics } from '../../src/api/start';
import type { RunningServer } from '../../src/api/server';
import type { WorkItemState } from '../../src/domain';
import { PlaneClient } from '../../src/tracker/plane-client';
import { cachedPlaneDirectory } from '../../src/tracker/plane-directory';
import { createLogger } from '../../src/util/logger';
import { stateQuery } from '../../src/workflows/messages';
import { FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { fakePlane, type FakeServer } from '../support/fake-trackers';
import { startTemporal } from '../support/temporal';
import { startTestApi, type TestApi } from '../support/api-harness';
import { recordHistory, startWorkers, taskQueue, waitForState } from '../support/work-item-harness';
import {
  GITEA_SECRET,
  PLANE_SECRET,
  WORLD,
  delivery,
  fixtureConfig,
  giteaPullRequestComment,
  signed,
  type Delivery,
} from '../support/webhook-fixtures';

import { PLANE_API_KEY as API_KEY } from '../support/test-secrets';
let env: TestWorkflowEnvironment;
let plane: FakeServer;
let api: TestApi;
let metricsApi: RunningServer;
const metrics = createMetrics();
const logLines: string[] = [];
const queue = taskQueue('webhooks');
let worker: Promise<void>;
/** Development runs started, and those stopped by cancellation (a pause, a cancel). */
let developmentRuns = 0;
let developmentStops = 0;
let stopWorker: () => void;

beforeAll(async () => {
  env = await startTemporal();
  plane = await fakePlane({
    apiKey: API_KEY,
    workspace: 'acme',
    projects: {
      [WORLD.planeProjectId]: {
        identifier: 'SHOP',
        states: [
          { id: WORLD.backlogStateId, name: 'Backlog', group: 'backlog' },
          { id: WORLD.todoStateId, name: 'Todo', group: 'unstarted' },
          { id: WORLD.doneStateId, name: 'Done', group: 'completed' },
          { id: WORLD.cancelledStateId, name: 'Cancelled', group: 'cancelled' },
        ],
        items: [{ id: WORLD.workItemId, sequence_id: 42, name: 'Apply coupon codes', state: WORLD.todoStateId }],
      },
    },
  });
  // A short heartbeat timeout lets a paused or cancelled step notice its cancellation quickly.
  const config = fixtureConfig({
    ORCH_TASK_QUEUE: queue,
    ORCH_WEBHOOK_MAX_BYTES: '65536',
    ORCH_HEARTBEAT_TIMEOUT_MS: '2000',
  });
  const directory = cachedPlaneDirectory(
    new PlaneClient({ baseUrl: plane.url, apiKey: API_KEY, workspace: 'acme', http: { baseDelayMs: 1 } }),
  );
  api = await startTestApi({
    client: env.client,
    config,
    logger: createLogger({ write: (l) => logLines.push(l) }),
    planeDirectory: directory,
    metrics,
  });
  metricsApi = await listenMetrics(metrics, '127.0.0.1', 0);
  // The analyst step needs a person the first time, so the item blocks and a comment can unblock it.
  let analystRuns = 0;
  const doubles = scriptedActivities({
    step: (input) => {
      if (input.stage === 'analysis' && ++analystRuns === 1) {
        throw ApplicationFailure.create({
          type: FAILURE_NEEDS_PERSON,
          message: 'analyst needs the acceptance criteria confirmed',
          nonRetryable: true,
        });
      }
      if (input.stage === 'development') {
        developmentRuns += 1;
        return runUntilCancelled(() => void (developmentStops += 1)); // parks here
      }
      return { costUsd: 0 };
    },
  });
  const workers = await startWorkers(env, queue, doubles.activities);
  worker = workers.done;
  stopWorker = () => void workers.stop();
});

afterAll(async () => {
  await item()
    .terminate('test over')
    .catch(() => undefined);
  await api?.close();
  await metricsApi?.close();
  await plane?.close();
  stopWorker?.();
  await worker?.catch(() => undefined);
  await env?.teardown();
});

async function post(
  path: string,
  d: Delivery,
  url = api.url,
): Promise<{ status: number; body: Record<string, unknown> }> {
  // Content-Length is left to fetch: the tests also post bodies that differ from the fixture's.
  const headers = Object.fromEntries(
    Object.entries(d.headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
  const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: d.body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

const item = () => env.client.workflow.getHandle('work-item/shop/SHOP-42');

describe('webhook intake', () => {
  test('a Plane "created" delivery starts SHOP-42; a Plane retry of it (new delivery id) has no second effect', async () => {
    const created = delivery('plane-issue-created');
    const first = await post('/webhooks/plane', created);
    expect(first).toEqual({
      status: 202,
      body: { outcome: 'started', workflowId: 'work-item/shop/SHOP-42', entry: expect.any(Number) },
    });
    const retry = {
      ...created,
      headers: { ...created.headers, 'X-Plane-Delivery': '11111111-2222-4333-8444-555555555555' },
    };
    // The journal knows the body: the retry is answered from it and never reaches the workflow.
    expect(await post('/webhooks/plane', retry)).toEqual({
      status: 202,
      body: { outcome: 'duplicate', entry: first.body.entry, state: 'done', reason: 'this body was received before' },
    });
    const state = await waitForState(item(), (s) => s.status === 'blocked');
    expect(state).toMatchObject({
      title: 'Apply coupon codes at checkout',
      duplicateEventsIgnored: 0,
      blocked: { kind: 'needs-person' },
    });
    expect(state.events.filter((e) => e.type === 'ticket.created')).toHaveLength(1);
    expect(
      await item()
        .describe()
        .then((d) => d.staticSummary()),
    ).toBe('SHOP-42: Apply coupon codes at checkout (shop)');
  });

  test("an operator's /approve comment unblocks the item; a comment from anyone else does not", async () => {
    const comment = (html: string, actor: string) => {
      const p = JSON.parse(delivery('plane-issue_comment-created').body.toString('utf8'));
      p.data.comment_html = html;
      p.activity.actor.id = actor;
      return signed('plane', p, { 'X-Plane-Event': 'issue_comment', 'X-Plane-Delivery': crypto.randomUUID() });
    };
    const stranger = await post('/webhooks/plane', comment('<p>/approve</p>', '00000000-0000-4000-8000-000000000000'));
    expect(stranger).toMatchObject({
      status: 202,
      body: { outcome: 'ignored', reason: expect.stringContaining('is not an operator') },
    });
    expect((await item().query(stateQuery)).status).toBe('blocked');

    const approveDelivery = comment('<p>/approve criteria confirmed by phone</p>', WORLD.priya);
    const approve = await post('/webhooks/plane', approveDelivery);
    expect(approve).toEqual({
      status: 202,
      body: { outcome: 'override-accepted', workflowId: 'work-item/shop/SHOP-42', entry: expect.any(Number) },
    });
    const state = await waitForState(item(), (s) => s.stage === 'development');
    expect(state.overrides).toEqual([
      expect.objectContaining({
        kind: 'approve',
        by: 'priya.nair',
        reason: 'criteria confirmed by phone',
        stage: 'analysis',
      }),
    ]);

    // The same comment delivered again (Plane retries with a new delivery id) is the same update: applied once.
    const again = {
      ...approveDelivery,
      headers: { ...approveDelivery.headers, 'X-Plane-Delivery': crypto.randomUUID() },
    };
    expect((await post('/webhooks/plane', again)).status).toBe(202);
    expect((await item().query(stateQuery)).overrides).toHaveLength(1);
  });

  test("Gitea: a human review is signalled to the item; the bot's own push and PR are ignored", async () => {
    expect(await post('/webhooks/gitea', delivery('gitea-pull_request_review-rejected'))).toEqual({
      status: 202,
      body: { outcome: 'signalled', workflowId: 'work-item/shop/SHOP-42', entry: expect.any(Number) },
    });
    expect(await post('/webhooks/gitea', delivery('gitea-push'))).toEqual({
      status: 202,
      body: { outcome: 'ignored', reason: 'own action by orchestrator' },
    });
    expect((await post('/webhooks/gitea', delivery('gitea-pull_request-opened'))).body.outcome).toBe('ignored');
    const state = await waitForState(item(), (s) => s.events.some((e) => e.type === 'gitea.review.rejected'));
    expect(state.events.find((e) => e.type === 'gitea.review.rejected')?.summary).toContain(
      'review rejected by mkowalska on PR #17',
    );
  });

  test("Gitea: an operator's command on the PR steers the item; anyone else's is only recorded", async () => {
    await waitForState(item(), (s) => s.stage === 'development' && s.status === 'active');
    expect(await post('/webhooks/gitea', giteaPullRequestComment('/cancel', 'mallory'))).toEqual({
      status: 202,
      body: { outcome: 'signalled', workflowId: 'work-item/shop/SHOP-42', entry: expect.any(Number) },
    });
    const recorded = await waitForState(item(), (s) => s.events.some((e) => e.type === 'gitea.comment'));
    expect(recorded.events.find((e) => e.type === 'gitea.comment')?.summary).toBe(
      'comment by mallory on PR #17 (not an operator of shop: no command): /cancel',
    );
    expect(recorded.status).toBe('active');

    const stops = developmentStops;
    const pause = await post(
      '/webhooks/gitea',
      giteaPullRequestComment('/pause waiting for the design review', 'mkowalska'),
    );
    expect(pause.body.outcome).toBe('override-accepted');
    const paused = await waitForState(item(), (s) => s.blocked?.kind === 'paused');
    expect(paused.blocked?.reason).toBe('paused by mkowalska: waiting for the design review');
    expect(developmentStops).toBe(stops + 1);

    const runs = developmentRuns;
    const retry = await post('/webhooks/gitea', giteaPullRequestComment('/retry design approved', 'mkowalska'));
    expect(retry.body.outcome).toBe('override-accepted');
    const resumed = await waitForState(item(), (s) => s.status === 'active');
    expect(resumed.overrides.at(-1)).toMatchObject({ kind: 'retry', by: 'mkowalska', reason: 'design approved' });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => developmentRuns > runs && (clearInterval(check), resolve()), 50);
    });
  });

  test('bad deliveries are rejected with a clear status and touch no workflow', async () => {
    const before = (await item().query(stateQuery)) as WorkItemState;
    const d = delivery('gitea-pull_request_review-rejected');
    const tampered = { ...d, body: Buffer.concat([d.body.subarray(0, -1), Buffer.from(' }')]) };
    expect(await post('/webhooks/gitea', tampered)).toEqual({
      status: 401,
      body: { outcome: 'unauthorized', error: 'missing or invalid signature' },
    });
    const reserialized = { ...d, body: Buffer.from(JSON.stringify(JSON.parse(d.body.toString('utf8')))) };
    expect((await post('/webhooks/gitea', reserialized)).status).toBe(401);
    const { 'X-Gitea-Signature': _s, 'X-Hub-Signature-256': _h, 'X-Gogs-Signature': _g, ...unsigned } = d.headers;
    expect((await post('/webhooks/gitea', { ...d, headers: unsigned })).status).toBe(401);
    expect((await post('/webhooks/gitea', { ...d, headers: { ...d.headers, 'X-Gitea-Signature': '' } })).status).toBe(
      401,
    );
    expect((await post('/webhooks/plane', d)).status).toBe(401); // a Gitea delivery on the Plane endpoint

    const garbage = signed('plane', 0, { 'X-Plane-Event': 'issue' });
    const notJson = { ...garbage, body: Buffer.from('{"event": "issue", '), headers: { ...garbage.headers } };
    notJson.headers['X-Plane-Signature'] = createHmac('sha256', PLANE_SECRET).update(notJson.body).digest('hex');
    expect(await post('/webhooks/plane', notJson)).toMatchObject({
      status: 400,
      body: { outcome: 'malformed', error: expect.stringContaining('malformed JSON') },
    });
    const wrongShape = signed(
      'plane',
      { event: 'issue', action: 'created', data: { project: WORLD.planeProjectId } },
      { 'X-Plane-Event': 'issue' },
    );
    expect(await post('/webhooks/plane', wrongShape)).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('invalid Plane work item payload: id:') },
    });
    const v2 = signed(
      'plane',
      { version: 'v2', event: 'workitem.created', event_id: 'e1', data: {} },
      { 'X-Plane-Event': 'workitem' },
    );
    expect(await post('/webhooks/plane', v2)).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('Plane v2 webhooks') },
    });
    const asText = { ...d, headers: { ...d.headers, 'Content-Type': 'text/plain' } };
    expect((await post('/webhooks/gitea', asText)).status).toBe(415);
    const huge = signed('gitea', { filler: 'x'.repeat(70_000) }, { 'X-Gitea-Event-Type': 'push' });
    expect(await post('/webhooks/gitea', huge)).toMatchObject({ status: 413, body: { outcome: 'too-large' } });
    expect((await post('/webhooks/jira', d)).status).toBe(404);

    const after = (await item().query(stateQuery)) as WorkItemState;
    expect(after.events).toEqual(before.events);
    expect(after.duplicateEventsIgnored).toBe(before.duplicateEventsIgnored);
  });

  test('metrics count deliveries by source, event and outcome, on their own listener only', async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    const text = await (await fetch(`${metricsApi.url}/metrics`)).text();
    expect(text).toContain('orch_webhook_deliveries_total{source="plane",event="issue",outcome="started"} 1');
    expect(text).toContain('orch_webhook_deliveries_total{source="plane",event="issue",outcome="duplicate"} 1');
    expect(text).toMatch(/orch_intake_forward_attempts_total\{result="done"\} \d+/);
    expect(text).toContain('orch_intake_backlog 0');
    expect(text).toContain('orch_intake_dead_letters 0');
    expect(text).toContain(
      'orch_webhook_deliveries_total{source="gitea",event="pull_request_review_rejected",outcome="signalled"} 1',
    );
    expect(text).toMatch(/orch_webhook_duration_seconds_bucket\{le="0.5",source="plane"\} \d+/);
  });

  test('secrets never reach the log', () => {
    const all = logLines.join('\n');
    expect(all).not.toContain(PLANE_SECRET);
    expect(all).not.toContain(GITEA_SECRET);
    expect(all).not.toContain(API_KEY);
    expect(logLines.some((l) => JSON.parse(l).msg === 'webhook delivery')).toBe(true);
  });

  test('moved to Backlog in Plane the item pauses (its running step stopped); back in Todo it resumes; Done by hand cancels it', async () => {
    const moved = (stateId: string, name: string) => {
      const p = JSON.parse(delivery('plane-issue-created').body.toString('utf8'));
      p.action = 'updated';
      p.data.state = stateId;
      p.activity = { ...p.activity, field: 'state', new_identifier: stateId, new_value: name };
      return signed('plane', p, { 'X-Plane-Event': 'issue', 'X-Plane-Delivery': crypto.randomUUID() });
    };
    await waitForState(item(), (s) => s.stage === 'development' && s.status === 'active');
    const runsBefore = developmentRuns;
    const stopsBefore = developmentStops;
    expect((await post('/webhooks/plane', moved(WORLD.backlogStateId, 'Backlog'))).body.outcome).toBe(
      'override-accepted',
    );
    const paused = await waitForState(item(), (s) => s.blocked?.kind === 'paused');
    expect(paused.blocked?.reason).toBe('paused by priya.nair: moved to Backlog in Plane');
    expect(paused.overrides.at(-1)).toMatchObject({ kind: 'pause', by: 'priya.nair', stage: 'development' });
    // The Web UI's details say who paused it and why.
    const metadata = await item().query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain('Last override: pause by priya.nair (moved to Backlog in Plane)');
    // The running development step was really stopped, not left running behind the block.
    expect(developmentStops).toBe(stopsBefore + 1);

    // Back in the trigger state: the item resumes its stage from the step.
    expect((await post('/webhooks/plane', moved(WORLD.todoStateId, 'Todo'))).body.outcome).toBe('started');
    const resumed = await waitForState(item(), (s) => s.status === 'active');
    expect(resumed.overrides.at(-1)).toMatchObject({ kind: 'retry', reason: expect.stringContaining('trigger state') });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => developmentRuns > runsBefore && (clearInterval(check), resolve()), 50);
    });

    // Done by hand: cancelled with that reason; the running step stops.
    expect((await post('/webhooks/plane', moved(WORLD.doneStateId, 'Done'))).body.outcome).toBe('override-accepted');
    const final = await item().result();
    expect(final.status).toBe('cancelled');
    expect(final.overrides.at(-1)).toMatchObject({
      kind: 'cancel',
      by: 'priya.nair',
      reason: 'moved to Done in Plane',
    });
    expect(developmentStops).toBe(stopsBefore + 2);
    await recordHistory(env, item(), 'plane-pause');
  });

  test('with Temporal unreachable a delivery is journalled and answered 202 at once; readiness says degraded', async () => {
    const deadClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const config = fixtureConfig({ ORCH_TASK_QUEUE: queue, ORCH_WEBHOOK_SIGNAL_TIMEOUT_MS: '300' });
    const directory = cachedPlaneDirectory(
      new PlaneClient({ baseUrl: plane.url, apiKey: API_KEY, workspace: 'acme', http: { baseDelayMs: 1 } }),
    );
    const down = await startTestApi({ client: deadClient, config, planeDirectory: directory });
    try {
      const answer = await post('/webhooks/plane', delivery('plane-issue-created'), down.url);
      expect(answer).toEqual({
        status: 202,
        body: {
          outcome: 'queued',
          entry: expect.any(Number),
          resolved: true,
          reason: 'journalled; it is forwarded to the work item as soon as Temporal takes it',
        },
      });
      const ready = await fetch(`${down.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'degraded',
        temporal: 'unreachable',
        intake: { backlog: 1, deadLetters: 0 },
      });
      expect(down.intake.journal.get(answer.body.entry as number)).toMatchObject({
        state: 'pending',
        lane: `plane:${WORLD.workItemId}`,
      });
      expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});
