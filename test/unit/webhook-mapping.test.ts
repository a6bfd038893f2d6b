// Every fixture maps to the right action; bot-originated events are ignored; commands, triggers
// and cancellations are recognised; malformed payloads are PayloadErrors (400).
import { mapGiteaDelivery } from '../../src/api/webhooks/gitea';
import { mapPlaneDelivery } from '../../src/api/webhooks/plane';
import { PayloadError } from '../../src/api/webhooks/errors';
import { TrackerTooSlowError } from '../../src/api/webhooks/mapping';
import type { WebhookAction } from '../../src/api/webhooks/actions';
import { parseCommentCommand } from '../../src/api/webhooks/comment-commands';
import { htmlToText } from '../../src/util/html';
import type { PlaneDirectory } from '../../src/tracker/plane-directory';
import { WORLD, delivery, fixtureConfig, giteaPullRequestComment } from '../support/webhook-fixtures';

const config = fixtureConfig();
const payload = (name: string): Record<string, unknown> => JSON.parse(delivery(name).body.toString('utf8'));
const directory: PlaneDirectory = {
  projectIdentifier: async (id) =>
    id === WORLD.planeProjectId ? 'SHOP' : Promise.reject(new Error('unknown project')),
  stateGroup: async (_p, stateId) =>
    ({
      [WORLD.cancelledStateId]: 'cancelled',
      [WORLD.startedStateId]: 'started',
      [WORLD.backlogStateId]: 'backlog',
      [WORLD.doneStateId]: 'completed',
    })[stateId],
  workItemSequence: async (_p, id) => (id === WORLD.workItemId ? 42 : Promise.reject(new Error('unknown item'))),
};
const plane = (p: unknown, botUserId?: string) =>
  mapPlaneDelivery(p, { config, directory, botUserId, webUrl: 'https://plane.acme.dev', workspace: 'acme' });

describe('Gitea mapping', () => {
  test('push to the item branch → push event for SHOP-42 (when not from the bot)', () => {
    expect(mapGiteaDelivery('push', payload('gitea-push'), { config })).toEqual({
      kind: 'signal',
      project: 'shop',
      ticket: 'SHOP-42',
      event: {
        source: 'gitea',
        type: 'gitea.push',
        summary:
          'orchestrator pushed 2 commit(s) to shop-42-apply-coupon-codes, head 237ca9c330222ba9adf151d943e7e9ad62fa392c',
      },
    });
  });

  test('pull request opened → PR event', () => {
    expect(mapGiteaDelivery('pull_request', payload('gitea-pull_request-opened'), { config })).toMatchObject({
      kind: 'signal',
      ticket: 'SHOP-42',
      event: {
        type: 'gitea.pull_request.opened',
        summary: 'PR #17 opened by orchestrator (shop-42-apply-coupon-codes → main)',
      },
    });
  });

  test('review rejected by a human → review event carrying the reviewer and text', () => {
    const action = mapGiteaDelivery('pull_request_review_rejected', payload('gitea-pull_request_review-rejected'), {
      config,
      botLogin: 'orchestrator',
    }) as WebhookAction;
    expect(action).toMatchObject({
      kind: 'signal',
      project: 'shop',
      ticket: 'SHOP-42',
      event: { type: 'gitea.review.rejected', changesRequested: { by: 'mkowalska' } },
    });
    expect(action.kind === 'signal' && action.event.summary).toContain(
      'review rejected by mkowalska on PR #17 at 237ca9c330222ba9adf151d943e7e9ad62fa392c: Expired coupons',
    );
  });

  test("the orchestrator's own push and PR come back and are ignored", () => {
    expect(mapGiteaDelivery('push', payload('gitea-push'), { config, botLogin: 'orchestrator' })).toEqual({
      kind: 'ignore',
      reason: 'own action by orchestrator',
    });
    expect(
      mapGiteaDelivery('pull_request', payload('gitea-pull_request-opened'), { config, botLogin: 'orchestrator' }),
    ).toMatchObject({ kind: 'ignore' });
  });

  test('a merge is recognised; unknown repositories, branches and event types are ignored', () => {
    const merged = payload('gitea-pull_request-opened');
    merged.action = 'closed';
    Object.assign(merged.pull_request as object, { merged: true, merge_commit_sha: 'abc123' });
    expect(mapGiteaDelivery('pull_request', merged, { config })).toMatchObject({
      event: { type: 'gitea.pull_request.merged', summary: expect.stringContaining('as abc123') },
    });
    const otherRepo = payload('gitea-push');
    (otherRepo.repository as Record<string, unknown>).full_name = 'acme/other';
    expect(mapGiteaDelivery('push', otherRepo, { config })).toEqual({
      kind: 'ignore',
      reason: 'repository acme/other is not configured',
    });
    const main = payload('gitea-push');
    main.ref = 'refs/heads/main';
    expect(mapGiteaDelivery('push', main, { config })).toEqual({
      kind: 'ignore',
      reason: 'branch refs/heads/main belongs to no work item',
    });
    expect(mapGiteaDelivery('fork', payload('gitea-push'), { config })).toEqual({
      kind: 'ignore',
      reason: 'Gitea event type fork is not handled',
    });
  });

  test("a person's approval carries who approved which commit (ADR-0026)", () => {
    const approved = payload('gitea-pull_request_review-rejected');
    (approved.review as Record<string, unknown>).type = 'pull_request_review_approved';
    expect(mapGiteaDelivery('pull_request_review_approved', approved, { config })).toMatchObject({
      kind: 'signal',
      ticket: 'SHOP-42',
      event: {
        type: 'gitea.review.approved',
        approved: { by: 'mkowalska', sha: '237ca9c330222ba9adf151d943e7e9ad62fa392c' },
      },
    });
  });

  describe('commit statuses (ADR-0025)', () => {
    const SHA = 'c'.repeat(40);
    const statusPayload = (extra: Record<string, unknown> = {}) => ({
      sha: SHA,
      context: 'ci/test',
      state: 'failure',
      description: 'boom',
      target_url: 'https://ci.acme.dev/7',
      branches: [],
      repository: { full_name: 'acme/shop' },
      sender: { login: 'ci-bot' },
      ...extra,
    });
    const heads: Array<[string, string]> = [];
    const itemByHead = async (project: string, sha: string) => {
      heads.push([project, sha]);
      return sha === SHA ? 'SHOP-42' : undefined;
    };

    test("a status finds its item by head, carrying the status's fields; an unknown head is ignored with why", async () => {
      expect(await mapGiteaDelivery('status', statusPayload(), { config, itemByHead })).toEqual({
        kind: 'signal',
        project: 'shop',
        ticket: 'SHOP-42',
        event: {
          source: 'gitea',
          type: 'gitea.status.failure',
          summary: `status ci/test: failure at ${SHA} (boom)`,
          ci: {
            sha: SHA,
            context: 'ci/test',
            state: 'failure',
            description: 'boom',
            targetUrl: 'https://ci.acme.dev/7',
          },
        },
      });
      expect(heads).toEqual([['shop', SHA]]);
      const other = 'd'.repeat(40);
      expect(await mapGiteaDelivery('status', statusPayload({ sha: other }), { config, itemByHead })).toEqual({
        kind: 'ignore',
        reason: `commit ${other} is no work item's current head`,
      });
    });

    test('a branch Gitea names is used without a look-up; a look-up that fails is retried later; a bad sha is a 400', async () => {
      heads.length = 0;
      const named = statusPayload({ branches: [{ name: 'feature/SHOP-7-coupons' }] });
      expect(await mapGiteaDelivery('status', named, { config, itemByHead })).toMatchObject({ ticket: 'SHOP-7' });
      expect(heads).toEqual([]);
      const down = async () => Promise.reject(new Error('visibility unavailable'));
      await expect(mapGiteaDelivery('status', statusPayload(), { config, itemByHead: down })).rejects.toThrow(
        TrackerTooSlowError,
      );
      expect(() => mapGiteaDelivery('status', statusPayload({ sha: "' OR 1=1" }), { config, itemByHead })).toThrow(
        PayloadError,
      );
    });
  });

  describe('comments on the pull request', () => {
    const comment = (body: string, login: string, action?: string) =>
      mapGiteaDelivery(
        'pull_request_comment',
        JSON.parse(giteaPullRequestComment(body, login, action).body.toString('utf8')),
        { config, botLogin: 'orchestrator' },
      );

    test("an operator's command is an override by that login (logins compare case-insensitively)", () => {
      expect(comment('/retry CI is fixed upstream', 'mkowalska')).toEqual({
        kind: 'override',
        project: 'shop',
        ticket: 'SHOP-42',
        request: { kind: 'retry', args: { reason: 'CI is fixed upstream' } },
        by: 'mkowalska',
      });
      expect(comment('/skip-gate lint flaky on the runner\nmore text', 'MKOWALSKA')).toMatchObject({
        kind: 'override',
        request: { kind: 'skip-gate', args: { gate: 'lint', reason: 'flaky on the runner' } },
      });
    });

    test("anyone else's command, and an operator's plain text, are recorded as comments", () => {
      expect(comment('/cancel', 'mallory')).toEqual({
        kind: 'signal',
        project: 'shop',
        ticket: 'SHOP-42',
        event: {
          source: 'gitea',
          type: 'gitea.comment',
          summary: 'comment by mallory on PR #17 (not an operator of shop: no command): /cancel',
        },
      });
      expect(comment('Looks good, thanks!', 'mkowalska')).toMatchObject({
        kind: 'signal',
        event: { type: 'gitea.comment', summary: 'comment by mkowalska on PR #17: Looks good, thanks!' },
      });
    });

    test.each([
      ['a zero-width space in the verb', '/re\u200btry'],
      ['a zero-width space before the slash', '\u200b/retry'],
      ['a fullwidth slash', '\uff0fretry'],
      ['a Cyrillic a', '/\u0430pprove'],
    ])('%s is never a command, even from an operator', (_what, body) => {
      expect(comment(body, 'mkowalska')).toMatchObject({ kind: 'signal', event: { type: 'gitea.comment' } });
    });

    test("an operator's malformed command is refused with the reason; edits and the bot's comments are ignored", () => {
      expect(comment('/skip-gate', 'mkowalska')).toEqual({
        kind: 'ignore',
        reason: expect.stringMatching(/^\/skip-gate/),
      });
      expect(comment('/retry', 'mkowalska', 'edited')).toEqual({
        kind: 'ignore',
        reason: 'comment edited is not used',
      });
      expect(comment('/retry', 'orchestrator')).toEqual({ kind: 'ignore', reason: 'own action by orchestrator' });
    });
  });

  test('a payload missing what the mapping needs is a PayloadError naming the field', () => {
    const broken = payload('gitea-push');
    delete broken.ref;
    expect(() => mapGiteaDelivery('push', broken, { config })).toThrow(
      new PayloadError('invalid Gitea push payload: ref: Invalid input: expected string, received undefined'),
    );
    expect(() => mapGiteaDelivery('push', [1, 2], { config })).toThrow(PayloadError);
  });
});

describe('Plane mapping', () => {
  test('work item created in the trigger state → start SHOP-42 with title, text and link', async () => {
    expect(await plane(payload('plane-issue-created'), WORLD.planeBot)).toEqual({
      kind: 'start',
      project: 'shop',
      info: {
        ticket: 'SHOP-42',
        title: 'Apply coupon codes at checkout',
        description: expect.stringContaining('As a shopper I want to enter a coupon code'),
        url: `https://plane.acme.dev/acme/projects/${WORLD.planeProjectId}/issues/${WORLD.workItemId}`,
        // Plane's "high": the item's priority key in the claim queues.
        priority: 2,
      },
      event: {
        source: 'plane',
        type: 'ticket.created',
        summary: 'created in the trigger state or label by priya.nair',
        title: 'Apply coupon codes at checkout',
      },
    });
  });

  test('a plain comment → comment event on SHOP-42, with the HTML turned into text', async () => {
    expect(await plane(payload('plane-issue_comment-created'), WORLD.planeBot)).toEqual({
      kind: 'signal',
      project: 'shop',
      ticket: 'SHOP-42',
      event: {
        source: 'plane',
        type: 'plane.comment',
        summary:
          'comment by priya.nair: Please also cover expired coupons — show “This coupon has expired” instead of a generic error.',
      },
    });
  });

  const comment = (html: string, actorId: string = WORLD.priya) => {
    const p = payload('plane-issue_comment-created');
    (p.data as Record<string, unknown>).comment_html = html;
    (p.activity as { actor: { id: string } }).actor.id = actorId;
    return p;
  };

  test('an operator command becomes the override, with who asked', async () => {
    expect(await plane(comment('<p>/skip-gate security scanner outage INC-7</p>'))).toEqual({
      kind: 'override',
      project: 'shop',
      ticket: 'SHOP-42',
      request: { kind: 'skip-gate', args: { gate: 'security', reason: 'scanner outage INC-7' } },
      by: 'priya.nair',
    });
    expect(await plane(comment('<p>/approve</p>'))).toMatchObject({
      kind: 'override',
      request: { kind: 'approve', args: {} },
      by: 'priya.nair',
    });
  });

  test('commands from someone who is not an operator, and malformed commands, are ignored', async () => {
    expect(await plane(comment('<p>/approve</p>', '00000000-0000-4000-8000-000000000000'))).toMatchObject({
      kind: 'ignore',
      reason: expect.stringContaining('is not an operator of shop'),
    });
    expect(await plane(comment('<p>/rollback</p>'))).toEqual({
      kind: 'ignore',
      reason: '/rollback needs <stage> [reason]',
    });
  });

  test('events from the bot user are ignored', async () => {
    const p = payload('plane-issue-created');
    (p.activity as { actor: { id: string } }).actor.id = WORLD.planeBot;
    expect(await plane(p, WORLD.planeBot)).toEqual({ kind: 'ignore', reason: 'own action by the orchestrator' });
  });

  const update = (field: string, newIdentifier: string | null, newValue: string) => {
    const p = payload('plane-issue-created');
    p.action = 'updated';
    p.activity = { ...(p.activity as object), field, new_identifier: newIdentifier, new_value: newValue };
    (p.data as Record<string, unknown>).state = WORLD.startedStateId;
    return p;
  };

  test('moved to the trigger state starts; moved to a cancelled-group state cancels; old "update" spelling accepted', async () => {
    expect(await plane(update('state_id', WORLD.todoStateId, 'Todo'))).toMatchObject({ kind: 'start' });
    expect(await plane(update('state', WORLD.cancelledStateId, 'Cancelled'))).toEqual({
      kind: 'override',
      project: 'shop',
      ticket: 'SHOP-42',
      request: { kind: 'cancel', args: { reason: 'cancelled in Plane' } },
      by: 'priya.nair',
    });
    const old = update('state', WORLD.startedStateId, 'In Progress');
    old.action = 'update';
    expect(await plane(old)).toMatchObject({ kind: 'signal', event: { type: 'plane.state_changed' } });
  });

  test('moved back to Backlog pauses the item; to Done by hand cancels it; both name the person', async () => {
    expect(await plane(update('state', WORLD.backlogStateId, 'Backlog'))).toEqual({
      kind: 'override',
      project: 'shop',
      ticket: 'SHOP-42',
      request: { kind: 'pause', args: { reason: 'moved to Backlog in Plane' } },
      by: 'priya.nair',
    });
    expect(await plane(update('state', WORLD.doneStateId, 'Done'))).toMatchObject({
      kind: 'override',
      request: { kind: 'cancel', args: { reason: 'moved to Done in Plane' } },
      by: 'priya.nair',
    });
    // The orchestrator's own move to Done (when the item is delivered) is not a person's.
    const own = update('state', WORLD.doneStateId, 'Done');
    (own.activity as { actor: { id: string } }).actor.id = WORLD.planeBot;
    expect(await plane(own, WORLD.planeBot)).toEqual({ kind: 'ignore', reason: 'own action by the orchestrator' });
  });

  test('not in the trigger state: ignored; unknown projects and other events: ignored', async () => {
    const p = payload('plane-issue-created');
    (p.data as Record<string, unknown>).state = { id: WORLD.startedStateId, group: 'started' };
    expect(await plane(p)).toEqual({ kind: 'ignore', reason: 'SHOP-42 is not in the trigger state or label' });
    const other = payload('plane-issue-created');
    (other.data as Record<string, unknown>).project = '11111111-1111-4111-8111-111111111111';
    expect(await plane(other)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('is not configured') });
    const cycle = payload('plane-issue-created');
    cycle.event = 'cycle';
    expect(await plane(cycle)).toEqual({ kind: 'ignore', reason: 'Plane event cycle is not handled' });
  });

  test('Plane v2 webhooks and malformed payloads are PayloadErrors', async () => {
    await expect(plane({ version: 'v2', event: 'workitem.created', event_id: 'x', data: {} })).rejects.toThrow(
      /Plane v2 webhooks/,
    );
    const noSequence = payload('plane-issue-created');
    delete (noSequence.data as Record<string, unknown>).sequence_id;
    await expect(plane(noSequence)).rejects.toThrow(
      'invalid Plane work item payload: sequence_id: Invalid input: expected number, received undefined',
    );
    await expect(plane('just a string')).rejects.toThrow(PayloadError);
  });
});

describe('comment commands', () => {
  test.each([
    ['/approve looks good', { ok: true, request: { kind: 'approve', args: { reason: 'looks good' } } }],
    ['/retry', { ok: true, request: { kind: 'retry', args: {} } }],
    [
      '/rollback architecture ADR missed caching',
      { ok: true, request: { kind: 'rollback', args: { toStage: 'architecture', reason: 'ADR missed caching' } } },
    ],
    [
      '/cancel duplicate of SHOP-7\nmore text',
      { ok: true, request: { kind: 'cancel', args: { reason: 'duplicate of SHOP-7' } } },
    ],
    [
      '/top-up $5 one more review round',
      { ok: true, request: { kind: 'top-up', args: { amountUsd: 5, reason: 'one more review round' } } },
    ],
    ['/skip-gate merge', { ok: false, error: '/skip-gate needs <gate> <reason>' }],
    ['/top-up lots', { ok: false, error: '/top-up: "lots" is not a dollar amount above 0' }],
    ['/deploy now', { ok: false, error: 'unknown command /deploy' }],
    ['/constructor', { ok: false, error: 'unknown command /constructor' }],
  ])('%j', (text, expected) => expect(parseCommentCommand(text)).toEqual(expected));

  test('ordinary comments are not commands', () => {
    expect(parseCommentCommand('Please /approve this')).toBeUndefined();
    expect(htmlToText('<p>a &amp; b</p><p>c&lt;d</p>')).toBe('a & b\nc<d');
  });
});
