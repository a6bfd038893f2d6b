// The real tracker-sync activity against a local Plane, driven by the workflow on the real dev server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTrackerActivities } from '../../src/activities/tracker';
import { PlaneClient } from '../../src/tracker/plane-client';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { approveUpdate, retryUpdate } from '../../src/workflows/messages';
import { scriptedActivities } from '../support/doubles';
import { fakeGitea, fakePlane } from '../support/fake-trackers';
import { GiteaClient } from '../../src/tracker/gitea-client';
import { startTemporal } from '../support/temporal';
import { WORLD, fixtureConfig, fixturePlaneWorld } from '../support/webhook-fixtures';
import {
  startItem,
  taskQueue,
  testInput,
  waitForState,
  withWorker,
  uniqueTicketNumber,
} from '../support/work-item-harness';

import { GITEA_TOKEN, PLANE_API_KEY as API_KEY, REVOKED_PLANE_API_KEY } from '../support/test-secrets';
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

// One ticket for the file's items (unique on the shared server), as the fake Plane knows it.
const TICKET = `SHOP-${uniqueTicketNumber()}`;
const world = () =>
  fixturePlaneWorld([
    {
      id: WORLD.workItemId,
      sequence_id: Number(TICKET.slice('SHOP-'.length)),
      name: 'Apply coupon codes',
      state: WORLD.todoStateId,
    },
  ]);

const BRANCH = `feature/${TICKET}-apply-coupon-codes`;
const HEAD = '237ca9c330222ba9adf151d943e7e9ad62fa392c';

test('Plane hears every stage change once and moves by state group; Gitea gets the PR, statuses and findings', async () => {
  const plane = await fakePlane({ ...world(), rateLimitEvery: 7 });
  const gitea = await fakeGitea({ token: GITEA_TOKEN, repo: 'acme/shop', branches: { [BRANCH]: HEAD } });
  try {
    const tracker = createTrackerActivities({
      config: fixtureConfig(),
      plane: new PlaneClient({ baseUrl: plane.url, apiKey: API_KEY, workspace: 'acme', http: { baseDelayMs: 1 } }),
      gitea: new GiteaClient({ baseUrl: gitea.url, token: GITEA_TOKEN, http: { baseDelayMs: 1 } }),
    });
    let reviews = 0;
    const doubles = scriptedActivities({
      gate: (input) =>
        input.stage === 'review' && ++reviews === 1
          ? { gate: input.gate, verdict: 'REQUEST_CHANGES', findings: ['add a test for expired coupons'] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const queue = taskQueue('tracker');
    const final = await withWorker(env, queue, { ...doubles.activities, ...tracker }, async () =>
      (await startItem(env, queue, testInput({ ticket: TICKET, title: 'Apply coupon codes' }))).result(),
    );
    expect(final.branch).toBe(BRANCH);
    expect(final.status).toBe('done');
    expect(final.notices).toEqual([]);
    const ids = plane.comments.map((c) => c.external_id);
    expect(new Set(ids).size).toBe(ids.length);
    // One comment per stage change (gate results go to the code host), in order, each once.
    const seqs = ids.map((id) => Number(id.replace(`orchestrator:${TICKET}:`, '')));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(ids).toHaveLength(final.history.length - 1);
    expect(plane.comments[0]?.html).toContain('moved from <code>created</code> to <code>analysis</code>');
    expect(
      plane.comments.some((c) => c.html.includes('REQUEST_CHANGES from gate artifacts: sent to development')),
    ).toBe(true);
    expect(plane.comments.at(-1)?.html).toContain('is done');
    expect(plane.stateChanges).toEqual([
      { itemId: WORLD.workItemId, state: WORLD.startedStateId },
      { itemId: WORLD.workItemId, state: WORLD.doneStateId },
    ]);
    // Gitea: one PR (opened at the first review, reused at the second), a status per gate run,
    // and the reviewer's findings verbatim on the PR.
    expect(gitea.pulls).toEqual([
      {
        number: 17,
        head: BRANCH,
        base: 'main',
        title: `${TICKET}: Apply coupon codes`,
        body: expect.any(String),
        merged: false,
      },
    ]);
    // The item knows its PR (orch status and the Web UI show it).
    expect(final.pullRequest).toEqual({ number: 17, url: `${gitea.url}/acme/shop/pulls/17` });
    // Its description followed the item to the end, with the link to the artifacts.
    expect(gitea.pulls[0]?.body).toBe(
      [
        `Work item **${TICKET}**: Apply coupon codes`,
        '',
        `- Stage: \`done\` (Delivered)`,
        '- Status: done: deployed and observed',
        `- Artifacts: [docs/work-items/${TICKET}](${gitea.url}/acme/shop/src/branch/feature/${TICKET}-apply-coupon-codes/docs/work-items/${TICKET})`,
        '',
        '_Kept up to date by the orchestrator at every stage change; edits here are overwritten._',
      ].join('\n'),
    );
    const edits = gitea.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as { body: string }).body);
    expect(edits.some((b) => b.includes('- Stage: `testing`'))).toBe(true);
    expect(gitea.statuses).toHaveLength(final.gateResults.length);
    expect(gitea.statuses.every((st) => st.sha === HEAD)).toBe(true);
    expect(gitea.statuses.filter((st) => st.state === 'failure')).toEqual([
      {
        sha: HEAD,
        state: 'failure',
        context: 'orchestrator/artifacts',
        description: 'REQUEST_CHANGES: add a test for expired coupons',
      },
    ]);
    expect(gitea.comments).toEqual([
      {
        issue: 17,
        body: `**REQUEST_CHANGES** from gate \`artifacts\` at stage \`review\` (${TICKET}):\n\n- add a test for expired coupons`,
      },
    ]);
  } finally {
    await plane.close();
    await gitea.close();
  }
});

test('a blocked item says why and how to unblock it; a rejected token blocks the item until a person acts', async () => {
  const plane = await fakePlane(world());
  try {
    const badKey = createTrackerActivities({
      config: fixtureConfig(),
      plane: new PlaneClient({
        baseUrl: plane.url,
        apiKey: REVOKED_PLANE_API_KEY,
        workspace: 'acme',
        http: { baseDelayMs: 1 },
      }),
    });
    const doubles = scriptedActivities({
      gate: (input) =>
        input.gate === 'security'
          ? { gate: 'security', verdict: 'FAIL', findings: ['aws-access-token in src/a.ts:1'] }
          : { gate: input.gate, verdict: 'PASS', findings: [] },
    });
    const queue = taskQueue('tracker-block');
    await withWorker(env, queue, { ...doubles.activities, ...badKey }, async () => {
      const handle = await startItem(
        env,
        queue,
        testInput({
          ticket: TICKET,
          limits: { maxReviewRejections: 3, maxGateRetries: 0, dedupKeysKept: 10, eventsKept: 10 },
        }),
      );
      const blocked = await waitForState(handle, (s) => s.status === 'blocked');
      // The first notice (the move into analysis) failed; the item stopped at the next step boundary.
      expect(blocked.notices[0]?.seq).toBe(1);
      expect(blocked.blocked).toMatchObject({
        kind: 'tracker',
        reason: expect.stringMatching(
          new RegExp(`^tracker: Plane GET /api/v1/workspaces/acme/work-items/${TICKET}/: HTTP 401`),
        ),
      });
      expect(blocked.blocked?.reason).not.toContain(REVOKED_PLANE_API_KEY);
      // A person accepts that the tracker misses that notice; the next one fails the same way.
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops', reason: 'Plane key being rotated' }] });
      const again = await waitForState(handle, (s) => s.status === 'blocked' && (s.notices[0]?.seq ?? 0) > 1);
      expect(again.blocked?.kind).toBe('tracker');
      await handle.terminate('test over');
    });

    const good = createTrackerActivities({
      config: fixtureConfig(),
      plane: new PlaneClient({ baseUrl: plane.url, apiKey: API_KEY, workspace: 'acme', http: { baseDelayMs: 1 } }),
    });
    const queue2 = taskQueue('tracker-block-2');
    await withWorker(env, queue2, { ...doubles.activities, ...good }, async () => {
      const handle = await startItem(
        env,
        queue2,
        testInput({
          ticket: TICKET,
          limits: { maxReviewRejections: 3, maxGateRetries: 0, dedupKeysKept: 10, eventsKept: 10 },
        }),
      );
      await waitForState(handle, (s) => s.status === 'blocked' && s.notices.length === 0);
      const blockedComment = plane.comments.at(-1)?.html ?? '';
      expect(blockedComment).toContain(
        `${TICKET} is blocked</strong> at <code>testing</code>: gate security failed on stage testing`,
      );
      expect(blockedComment).toContain('<code>/skip-gate security &lt;reason&gt;</code>');
      expect(blockedComment).toContain(`orch approve ${TICKET}`);
      await handle.terminate('test over');
    });
  } finally {
    await plane.close();
  }
});

test('a tracker failure while telling about a block keeps that block: clearing it does not let the item run on', async () => {
  const doubles = scriptedActivities({
    gate: (input) =>
      input.gate === 'security'
        ? { gate: 'security', verdict: 'FAIL', findings: ['aws-access-token in src/a.ts:1'] }
        : { gate: input.gate, verdict: 'PASS', findings: [] },
  });
  // Plane rejects only the "blocked" comment.
  const tell = (notice: { kind: string }) => {
    if (notice.kind === 'blocked')
      throw ApplicationFailure.create({
        type: FAILURE_NEEDS_PERSON,
        nonRetryable: true,
        message: 'tracker: Plane POST comments: HTTP 403',
      });
  };
  const tracker = {
    syncTracker: async (input: { notice: { kind: string } }) => (tell(input.notice), { summary: 'ok' }),
    syncTrackerNotices: async (input: { notices: readonly { kind: string }[] }) => {
      for (const [delivered, notice] of input.notices.entries()) {
        try {
          tell(notice);
        } catch (err) {
          const failure = err as ApplicationFailure;
          throw ApplicationFailure.create({
            type: failure.type ?? undefined,
            message: failure.message,
            nonRetryable: failure.nonRetryable ?? undefined,
            details: [{ delivered }],
          });
        }
      }
      return { summary: 'ok' };
    },
  };
  const queue = taskQueue('tracker-underlying');
  await withWorker(env, queue, { ...doubles.activities, ...tracker }, async () => {
    const handle = await startItem(
      env,
      queue,
      testInput({ limits: { maxReviewRejections: 3, maxGateRetries: 0, dedupKeysKept: 10, eventsKept: 10 } }),
    );
    const trackerBlocked = await waitForState(handle, (s) => s.blocked?.kind === 'tracker');
    expect(trackerBlocked.blocked?.underlying).toMatchObject({ kind: 'cap', gate: 'security' });
    // Retry restores the cap block and re-sends the notice, which fails again.
    await handle.executeUpdate(retryUpdate, { args: [{ by: 'ops', reason: 'Plane permissions fixed? not yet' }] });
    await waitForState(handle, (s) => s.blocked?.kind === 'tracker' && s.blocked.at !== trackerBlocked.blocked?.at);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops', reason: 'skip that comment' }] });
    const state = await waitForState(handle, (s) => s.blocked?.kind === 'cap');
    expect(state).toMatchObject({ status: 'blocked', stage: 'testing', notices: [] });
    expect(doubles.stepCalls.filter((c) => c.stage === 'development')).toHaveLength(1);
    await handle.terminate('test over');
  });
});
