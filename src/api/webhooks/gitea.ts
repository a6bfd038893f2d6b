// Gitea deliveries (webhook payload version 2, Gitea 1.24/1.25): schema and mapping to actions.
// Parsed tolerantly: unknown keys pass, only what the mapping reads is required.
import { z } from 'zod';
import type { AppConfig } from '../../config';
import { COMMIT_ID } from '../../domain/ci-wait';
import type { HeadLookup } from '../../client/item-by-head';
import { ignore, type WebhookAction } from './actions';
import { parseCommentCommand } from './comment-commands';
import { PayloadError, parsePayload } from './errors';
import { TrackerTooSlowError } from './mapping';
import { projectByGiteaRepository, ticketFromBranch, ticketFromTitle } from './tickets';

const user = z.looseObject({ login: z.string() });
const repository = z.looseObject({ full_name: z.string() });
const base = { repository, sender: user };
const pullRequest = z.looseObject({
  number: z.number().int(),
  title: z.string(),
  head: z.looseObject({ ref: z.string(), sha: z.string() }),
  base: z.looseObject({ ref: z.string() }),
  merged: z.boolean().optional(),
  merge_commit_sha: z.string().nullish(),
});

const schemas = {
  push: z.looseObject({
    ...base,
    ref: z.string(),
    after: z.string(),
    total_commits: z.number().int().optional(),
    commits: z.array(z.looseObject({ id: z.string(), message: z.string() })).default([]),
  }),
  pull_request: z.looseObject({ ...base, action: z.string(), pull_request: pullRequest }),
  review: z.looseObject({
    ...base,
    action: z.string(),
    pull_request: pullRequest,
    review: z.looseObject({ type: z.string(), content: z.string().default('') }),
  }),
  status: z.looseObject({
    ...base,
    sha: z.string(),
    state: z.string(),
    context: z.string().default(''),
    description: z.string().nullish(),
    target_url: z.string().nullish(),
    branches: z.array(z.looseObject({ name: z.string() })).nullish(),
  }),
  issue_comment: z.looseObject({
    ...base,
    action: z.string(),
    is_pull: z.boolean().default(false),
    issue: z.looseObject({ number: z.number().int(), title: z.string() }),
    /** Present on comments on a pull request: its head branch names the item. */
    pull_request: pullRequest.nullish(),
    comment: z.looseObject({ body: z.string() }),
  }),
};

/** Event types (X-Gitea-Event-Type) read with another type's schema. */
const KIND_OF: Record<string, string> = {
  pull_request_sync: 'pull_request',
  // What Gitea sends for a comment on a pull request (X-Gitea-Event: issue_comment).
  pull_request_comment: 'issue_comment',
};

const REVIEW_TYPES: Record<string, string> = {
  pull_request_review_approved: 'approved',
  pull_request_review_rejected: 'rejected',
  pull_request_review_comment: 'comment',
};

export interface GiteaContext {
  readonly config: AppConfig;
  readonly botLogin?: string;
  /** Finds the item whose head a status names (Gitea sends no branch with it). */
  readonly itemByHead?: HeadLookup;
}

/** Maps one Gitea delivery (event type from X-Gitea-Event-Type) to what the pipeline should do. */
export function mapGiteaDelivery(
  eventType: string,
  payload: unknown,
  ctx: GiteaContext,
): WebhookAction | Promise<WebhookAction> {
  const kind = KIND_OF[eventType] ?? (REVIEW_TYPES[eventType] ? 'review' : eventType);
  if (!(kind in schemas)) return ignore(`Gitea event type ${eventType} is not handled`);
  const common = parsePayload(z.looseObject(base), payload, `Gitea ${eventType}`);
  const found = projectByGiteaRepository(ctx.config, common.repository.full_name);
  if (!found) return ignore(`repository ${common.repository.full_name} is not configured`);
  if (ctx.botLogin && common.sender.login === ctx.botLogin) return ignore(`own action by ${ctx.botLogin}`);
  const [project, projectConfig] = found;
  const signal = (ticket: string | undefined, type: string, summary: string, where: string): WebhookAction =>
    ticket
      ? { kind: 'signal', project, ticket, event: { source: 'gitea', type, summary } }
      : ignore(`${where} belongs to no work item`);

  switch (kind) {
    case 'push': {
      const p = parsePayload(schemas.push, payload, `Gitea ${eventType}`);
      const count = p.total_commits ?? p.commits.length;
      return signal(
        ticketFromBranch(p.ref, projectConfig),
        'gitea.push',
        `${p.sender.login} pushed ${count} commit(s) to ${p.ref.replace(/^refs\/heads\//, '')}, head ${p.after}`,
        `branch ${p.ref}`,
      );
    }
    case 'pull_request': {
      const p = parsePayload(schemas.pull_request, payload, `Gitea ${eventType}`);
      const pr = p.pull_request;
      const action = p.action === 'closed' && pr.merged ? 'merged' : p.action;
      const merge = action === 'merged' && pr.merge_commit_sha ? ` as ${pr.merge_commit_sha}` : '';
      return signal(
        ticketFromBranch(pr.head.ref, projectConfig) ?? ticketFromTitle(pr.title, projectConfig),
        `gitea.pull_request.${action}`,
        `PR #${pr.number} ${action} by ${p.sender.login}${merge} (${pr.head.ref} → ${pr.base.ref})`,
        `PR #${pr.number}`,
      );
    }
    case 'review': {
      const p = parsePayload(schemas.review, payload, `Gitea ${eventType}`);
      const verdict = REVIEW_TYPES[p.review.type] ?? REVIEW_TYPES[eventType] ?? 'comment';
      const pr = p.pull_request;
      const action = signal(
        ticketFromBranch(pr.head.ref, projectConfig) ?? ticketFromTitle(pr.title, projectConfig),
        `gitea.review.${verdict}`,
        `review ${verdict} by ${p.sender.login} on PR #${pr.number} at ${pr.head.sha}: ${p.review.content}`,
        `PR #${pr.number}`,
      );
      // A person's REQUEST_CHANGES sends the work back like the reviewer agent's; an approval
      // releases an item held for one (ADR-0026).
      if (action.kind !== 'signal') return action;
      if (verdict === 'rejected')
        return {
          ...action,
          event: { ...action.event, changesRequested: { by: p.sender.login, text: p.review.content } },
        };
      if (verdict === 'approved')
        return { ...action, event: { ...action.event, approved: { by: p.sender.login, sha: pr.head.sha } } };
      return action;
    }
    case 'status': {
      const p = parsePayload(schemas.status, payload, `Gitea ${eventType}`);
      if (!COMMIT_ID.test(p.sha)) throw new PayloadError(`invalid Gitea status payload: sha is not a commit id`);
      const status = (ticket: string | undefined): WebhookAction =>
        ticket
          ? {
              kind: 'signal',
              project,
              ticket,
              event: {
                source: 'gitea',
                type: `gitea.status.${p.state.slice(0, 20)}`,
                summary: `status ${p.context}: ${p.state} at ${p.sha}${p.description ? ` (${p.description})` : ''}`,
                ci: {
                  sha: p.sha,
                  context: p.context,
                  state: p.state,
                  ...(p.description ? { description: p.description } : {}),
                  ...(p.target_url ? { targetUrl: p.target_url } : {}),
                },
              },
            }
          : ignore(`commit ${p.sha} is no work item's current head`);
      const named = (p.branches ?? []).map((b) => ticketFromBranch(b.name, projectConfig)).find((t) => t);
      if (named || !ctx.itemByHead) return status(named);
      return ctx.itemByHead(project, p.sha).then(status, (err: unknown) => {
        // Temporal's visibility could not be asked: journalled unresolved, mapped again later.
        throw new TrackerTooSlowError(
          `the item of commit ${p.sha} could not be looked up: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    }
    case 'issue_comment': {
      const p = parsePayload(schemas.issue_comment, payload, `Gitea ${eventType}`);
      if (!p.is_pull && !p.pull_request) return ignore('comment on an issue, not a pull request');
      if (p.action !== 'created') return ignore(`comment ${p.action.slice(0, 40)} is not used`);
      const ticket =
        (p.pull_request ? ticketFromBranch(p.pull_request.head.ref, projectConfig) : undefined) ??
        ticketFromTitle(p.issue.title, projectConfig);
      const where = `PR #${p.issue.number}`;
      const recorded = (note = '') =>
        signal(
          ticket,
          'gitea.comment',
          `comment by ${p.sender.login} on ${where}${note}: ${p.comment.body.slice(0, 500)}`,
          where,
        );
      const command = parseCommentCommand(p.comment.body);
      if (!command) return recorded();
      const login = p.sender.login.toLowerCase();
      const operators = projectConfig.gitea?.operators ?? [];
      if (!operators.some((o) => o.toLowerCase() === login))
        return recorded(` (not an operator of ${project}: no command)`);
      if (!command.ok) return ignore(command.error);
      if (!ticket) return ignore(`${where} belongs to no work item`);
      return { kind: 'override', project, ticket, request: command.request, by: p.sender.login };
    }
    default:
      return ignore(`Gitea event type ${eventType} is not handled`);
  }
}
