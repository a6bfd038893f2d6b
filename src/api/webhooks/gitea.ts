// Gitea deliveries (webhook payload version 2, Gitea 1.24/1.25): schema and mapping to actions.
// Parsed tolerantly: unknown keys pass, only what the mapping reads is required.
import { z } from 'zod';
import type { AppConfig } from '../../config';
import { ignore, type WebhookAction } from './actions';
import { parsePayload } from './errors';
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
    branches: z.array(z.looseObject({ name: z.string() })).optional(),
  }),
  issue_comment: z.looseObject({
    ...base,
    action: z.string(),
    is_pull: z.boolean().default(false),
    issue: z.looseObject({ number: z.number().int(), title: z.string() }),
    comment: z.looseObject({ body: z.string() }),
  }),
};

const REVIEW_TYPES: Record<string, string> = {
  pull_request_review_approved: 'approved',
  pull_request_review_rejected: 'rejected',
  pull_request_review_comment: 'comment',
};

export interface GiteaContext {
  readonly config: AppConfig;
  readonly botLogin?: string;
}

/** Maps one Gitea delivery (event type from X-Gitea-Event-Type) to what the pipeline should do. */
export function mapGiteaDelivery(eventType: string, payload: unknown, ctx: GiteaContext): WebhookAction {
  const kind = eventType === 'pull_request_sync' ? 'pull_request' : REVIEW_TYPES[eventType] ? 'review' : eventType;
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
      return signal(
        ticketFromBranch(pr.head.ref, projectConfig) ?? ticketFromTitle(pr.title, projectConfig),
        `gitea.review.${verdict}`,
        `review ${verdict} by ${p.sender.login} on PR #${pr.number} at ${pr.head.sha}: ${p.review.content}`,
        `PR #${pr.number}`,
      );
    }
    case 'status': {
      const p = parsePayload(schemas.status, payload, `Gitea ${eventType}`);
      const ticket = (p.branches ?? [])
        .map((b) => ticketFromBranch(b.name, projectConfig))
        .find((t) => t !== undefined);
      return signal(
        ticket,
        `gitea.status.${p.state}`,
        `status ${p.context}: ${p.state} at ${p.sha}${p.description ? ` (${p.description})` : ''}`,
        `commit ${p.sha}`,
      );
    }
    case 'issue_comment': {
      const p = parsePayload(schemas.issue_comment, payload, `Gitea ${eventType}`);
      if (!p.is_pull) return ignore('comment on an issue, not a pull request');
      return signal(
        ticketFromTitle(p.issue.title, projectConfig),
        'gitea.comment',
        `comment by ${p.sender.login} on PR #${p.issue.number}: ${p.comment.body.slice(0, 500)}`,
        `PR #${p.issue.number}`,
      );
    }
    default:
      return ignore(`Gitea event type ${eventType} is not handled`);
  }
}
