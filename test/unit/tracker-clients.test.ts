// The Plane and Gitea clients over real HTTP against servers implementing the documented contracts.
import { GiteaClient } from '../../src/tracker/gitea-client';
import { TrackerError } from '../../src/tracker/http';
import { PlaneClient } from '../../src/tracker/plane-client';
import { cachedPlaneDirectory } from '../../src/tracker/plane-directory';
import { fakeGitea, fakePlane } from '../support/fake-trackers';
import { WORLD, fixturePlaneWorld } from '../support/webhook-fixtures';

import { GITEA_TOKEN as TOKEN, PLANE_API_KEY as API_KEY } from '../support/test-secrets';
const fast = { baseDelayMs: 1, maxRetries: 3 };

const planeWorld = () =>
  fixturePlaneWorld(
    Array.from({ length: 5 }, (_, i) => ({
      id: i === 0 ? WORLD.workItemId : `item-${i}`,
      sequence_id: 42 + i,
      name: `Item ${i}`,
      state: WORLD.todoStateId,
    })),
  );

describe('Plane client', () => {
  test('reads identifiers, states and work items, pages through lists, changes state', async () => {
    const server = await fakePlane(planeWorld());
    try {
      const client = new PlaneClient({ baseUrl: server.url, apiKey: API_KEY, workspace: 'acme', http: fast });
      expect(await client.projectIdentifier(WORLD.planeProjectId)).toBe('SHOP');
      expect((await client.states(WORLD.planeProjectId)).map((s) => s.group)).toEqual([
        'backlog',
        'unstarted',
        'started',
        'completed',
        'cancelled',
      ]);
      expect((await client.workItem(WORLD.planeProjectId, WORLD.workItemId)).sequence_id).toBe(42);
      const all: number[] = [];
      for await (const item of client.workItems(WORLD.planeProjectId, 2)) all.push(item.sequence_id);
      expect(all).toEqual([42, 43, 44, 45, 46]);
      await client.setState(WORLD.planeProjectId, WORLD.workItemId, WORLD.startedStateId);
      expect(server.stateChanges).toEqual([{ itemId: WORLD.workItemId, state: WORLD.startedStateId }]);
    } finally {
      await server.close();
    }
  });

  test('comments are idempotent through external_id (409 counts as done)', async () => {
    const server = await fakePlane(planeWorld());
    try {
      const client = new PlaneClient({ baseUrl: server.url, apiKey: API_KEY, workspace: 'acme', http: fast });
      expect(
        await client.comment(WORLD.planeProjectId, WORLD.workItemId, '<p>Stage: review</p>', 'orch:SHOP-42:review:1'),
      ).toBe('created');
      expect(
        await client.comment(WORLD.planeProjectId, WORLD.workItemId, '<p>Stage: review</p>', 'orch:SHOP-42:review:1'),
      ).toBe('duplicate');
      expect(server.comments).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  test('429 answers are retried; a bad key is a person-must-fix error without the key in it', async () => {
    const server = await fakePlane({ ...planeWorld(), rateLimitEvery: 2 });
    try {
      const client = new PlaneClient({ baseUrl: server.url, apiKey: API_KEY, workspace: 'acme', http: fast });
      for (let i = 0; i < 4; i++) expect(await client.projectIdentifier(WORLD.planeProjectId)).toBe('SHOP');
      expect(server.requests.length).toBeGreaterThan(4);
      const wrong = new PlaneClient({
        baseUrl: server.url,
        apiKey: 'wrong_key_that_is_secret',
        workspace: 'acme',
        http: fast,
      });
      const error = await wrong.projectIdentifier(WORLD.planeProjectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrackerError);
      expect(error).toMatchObject({ status: 401, personMustFix: true });
      expect((error as Error).message).toBe(
        `Plane GET /api/v1/workspaces/acme/projects/${WORLD.planeProjectId}/: HTTP 401: {"detail":"Invalid API key"}`,
      );
      expect((error as Error).message).not.toContain('wrong_key');
    } finally {
      await server.close();
    }
  });

  test('an unreachable server is a retryable error after the retries', async () => {
    const client = new PlaneClient({ baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY, workspace: 'acme', http: fast });
    await expect(client.projectIdentifier('x')).rejects.toMatchObject({
      personMustFix: false,
      message: expect.stringContaining('unreachable'),
    });
  });

  test('the directory caches look-ups and does not cache failures', async () => {
    const server = await fakePlane(planeWorld());
    try {
      const directory = cachedPlaneDirectory(
        new PlaneClient({ baseUrl: server.url, apiKey: API_KEY, workspace: 'acme', http: fast }),
      );
      for (let i = 0; i < 3; i++) {
        expect(await directory.projectIdentifier(WORLD.planeProjectId)).toBe('SHOP');
        expect(await directory.stateGroup(WORLD.planeProjectId, WORLD.cancelledStateId)).toBe('cancelled');
        expect(await directory.workItemSequence(WORLD.planeProjectId, WORLD.workItemId)).toBe(42);
      }
      expect(server.requests).toHaveLength(3);
      await expect(directory.projectIdentifier('missing')).rejects.toMatchObject({ status: 404 });
      await expect(directory.projectIdentifier('missing')).rejects.toMatchObject({ status: 404 });
      expect(server.requests).toHaveLength(5);
    } finally {
      await server.close();
    }
  });
});

describe('Gitea client', () => {
  test('ensurePullRequest opens the PR once and finds the open one after a 409', async () => {
    const server = await fakeGitea({ token: TOKEN, repo: 'acme/shop' });
    try {
      const client = new GiteaClient({ baseUrl: server.url, token: TOKEN, http: fast });
      const first = await client.ensurePullRequest(
        'acme/shop',
        'feature/SHOP-42-coupons',
        'main',
        'SHOP-42: Coupons',
        'body',
      );
      const again = await client.ensurePullRequest(
        'acme/shop',
        'feature/SHOP-42-coupons',
        'main',
        'SHOP-42: Coupons',
        'body',
      );
      expect(again.number).toBe(first.number);
      expect(server.pulls).toHaveLength(1);
      await client.setStatus('acme/shop', 'abc123', 'failure', 'orchestrator/security', 'secret found');
      expect(server.statuses).toEqual([
        { sha: 'abc123', state: 'failure', context: 'orchestrator/security', description: 'secret found' },
      ]);
      expect(await client.branchHead('acme/shop', 'feature/none')).toBeUndefined();
      const denied = await new GiteaClient({ baseUrl: server.url, token: 'nope', http: fast })
        .comment('acme/shop', 17, 'x')
        .catch((e: unknown) => e);
      expect(denied).toMatchObject({ status: 401, personMustFix: true });
    } finally {
      await server.close();
    }
  });
});
