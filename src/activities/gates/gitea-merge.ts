// Merging through Gitea's API (projects with gitea.mergeThroughApi): the item's PR is opened or
// reused and merged there, so Gitea's branch protection, required approvals and checks apply.
// A merge is not safe to repeat blindly: before every attempt, and after any answer that leaves
// the outcome open, the PR's merged state is asked first. The PR number is checkpointed in the
// heartbeat, so a retried gate (a crash after Gitea merged) finds the merge instead of redoing it.
import type { GiteaClient, GiteaMergeAnswer, GiteaMergeStyle } from '../../tracker/gitea-client';
import { needsPerson } from '../failures';
import type { GateContext, Integration } from './types';

/** Gitea computes mergeability after a push; "try again later" is retried this often. */
const NOT_READY_ATTEMPTS = 10;
const NOT_READY_DELAY_MS = 1000;

const STYLE: Record<'merge-commit' | 'fast-forward', GiteaMergeStyle> = {
  'merge-commit': 'merge',
  'fast-forward': 'fast-forward-only',
};

interface MergeCheckpoint {
  readonly pullRequest: number;
}

export function giteaMerge(
  ctx: GateContext,
  gitea: GiteaClient,
  options: { title: string; mergedHead: () => Promise<string> },
): Integration {
  const repo = ctx.project.gitea!.repository;
  const main = ctx.project.defaultBranch;
  const alreadyMergedAs = async (number: number): Promise<string | undefined> =>
    (await gitea.isMerged(repo, number))
      ? `PR #${number} of ${ctx.branch} is already merged into ${main} on Gitea (${(await options.mergedHead()).slice(0, 12)})`
      : undefined;

  return {
    async alreadyMerged() {
      const previous = checkpointed(ctx.checkpoints.previous);
      if (previous !== undefined) return alreadyMergedAs(previous);
      const pull = await gitea.findPullRequest(repo, ctx.branch, main);
      return pull?.merged ? alreadyMergedAs(pull.number) : undefined;
    },

    async merge(rebased) {
      const pull = await gitea.ensurePullRequest(
        repo,
        ctx.branch,
        main,
        `${ctx.input.ticket}: ${options.title}`,
        `Work item ${ctx.input.ticket}, merged by the orchestrator's merge gate.`,
      );
      ctx.checkpoints.save({ pullRequest: pull.number } satisfies MergeCheckpoint);
      const done = async (): Promise<string> =>
        `through Gitea PR #${pull.number} as ${(await options.mergedHead()).slice(0, 12)}`;
      for (let attempt = 1; ; attempt++) {
        const answer = await gitea.mergePullRequest(repo, pull.number, {
          style: STYLE[ctx.project.mergeStyle],
          headCommitId: rebased,
          title: options.title,
        });
        if (answer.outcome === 'merged') return done();
        if (answer.outcome === 'refused' && answer.status !== 405) refused(pull.number, answer);
        // 405 (merged already? not mergeable yet?) or no answer at all: look before anything else.
        if (await gitea.isMerged(repo, pull.number)) return done();
        if (answer.outcome === 'refused' && !/try again later/i.test(answer.message)) {
          throw needsPerson(
            `Gitea refused to merge PR #${pull.number} of ${ctx.branch} (HTTP 405${answer.message ? `: ${answer.message}` : ''}): check the PR's required approvals and checks and the bot's permission to merge, then retry`,
          );
        }
        if (attempt === NOT_READY_ATTEMPTS) {
          throw new Error(
            `Gitea did not merge PR #${pull.number} of ${ctx.branch} after ${attempt} attempts (${answer.outcome === 'unknown' ? answer.detail : 'not mergeable yet'}); the gate is retried`,
          );
        }
        await new Promise((r) => setTimeout(r, NOT_READY_DELAY_MS));
      }
    },
  };

  function refused(number: number, answer: Extract<GiteaMergeAnswer, { outcome: 'refused' }>): never {
    if (answer.status === 404)
      throw needsPerson(`PR #${number} of ${ctx.branch} is closed on Gitea: reopen it (or delete it) and retry`);
    // 409: a conflict, or the head or main moved since the rebase: the retried gate rebases anew.
    throw new Error(
      `Gitea could not merge PR #${number} of ${ctx.branch} (HTTP 409${answer.message ? `: ${answer.message}` : ''}); the gate is retried from a fresh rebase`,
    );
  }
}

function checkpointed(previous: unknown): number | undefined {
  const number = (previous as Partial<MergeCheckpoint> | undefined)?.pullRequest;
  return typeof number === 'number' && Number.isInteger(number) ? number : undefined;
}
