// The merge gate (under the repository's merge lease, after the security gate): rebase the item's
// branch onto origin's default branch, run the project's test command on the result, then merge:
// locally with git and push, or through Gitea's API when the project says so (gitea-merge.ts).
// A conflict or failing tests send the item back to development with the evidence. A merge that
// already happened (a retry after a crash) is recognised and not repeated.
import fs from 'node:fs';
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import type { GateOutcome } from '../../domain';
import { ensureClone, gitSucceeds, runGit } from '../git/repository';
import { needsPerson } from '../failures';
import { commandSandbox } from '../command-sandbox';
import { runProjectCommand } from '../project-command';
import { giteaMerge } from './gitea-merge';
import type { GateContext, Integration } from './types';

export async function runMergeGate(ctx: GateContext): Promise<GateOutcome> {
  const { project, branch } = ctx;
  const main = project.defaultBranch;
  const dir = path.join(ctx.config.dataDir, 'merge', ctx.projectKey);
  const git = (...args: string[]): Promise<string> => runGit(['-C', dir, ...args]);
  await ensureClone(ctx.repositoryUrl, dir);
  const succeeds = (...args: string[]): Promise<boolean> => gitSucceeds(['-C', dir, ...args]);
  await git('fetch', '--quiet', '--prune', 'origin');
  // A worker killed mid-rebase leaves the rebase in progress in this clone.
  if (['rebase-merge', 'rebase-apply'].some((d) => fs.existsSync(path.join(dir, '.git', d))))
    await git('rebase', '--abort');
  await git('reset', '--quiet', '--hard');
  await git('clean', '-fdxq');
  const mergedHead = async (): Promise<string> => {
    await git('fetch', '--quiet', 'origin');
    return (await git('rev-parse', `origin/${main}`)).trim();
  };
  const integration = project.gitea?.mergeThroughApi ? apiIntegration(ctx, mergedHead) : localIntegration(ctx, git);

  const known = await integration.alreadyMerged();
  if (known) return pass(known);
  const remoteBranch = `refs/remotes/origin/${branch}`;
  if (!(await succeeds('rev-parse', '--verify', '--quiet', `${remoteBranch}^{commit}`)))
    return fail([`branch ${branch} does not exist in the repository`]);
  if (await succeeds('merge-base', '--is-ancestor', remoteBranch, `origin/${main}`)) {
    return pass(
      `${branch} is already merged into ${main} (${(await git('rev-parse', `origin/${main}`)).trim().slice(0, 12)})`,
    );
  }

  const before = (await git('rev-parse', remoteBranch)).trim();
  await git('checkout', '--quiet', '-B', 'orchestrator-merge', remoteBranch);
  try {
    await git('rebase', '--quiet', `origin/${main}`);
  } catch {
    const conflicts = (await git('diff', '--name-only', '--diff-filter=U')).split('\n').filter(Boolean);
    await git('rebase', '--abort').catch(() => undefined);
    return fail([
      `rebasing ${branch} onto ${main} conflicts in: ${conflicts.join(', ') || '(unknown files)'}; rebase the branch onto ${main} and resolve them`,
    ]);
  }

  const testCommand = project.commands.test;
  if (testCommand) {
    // The tests are code the agents wrote: they run in the agent sandbox, never with the worker's access.
    const run = await runProjectCommand(testCommand, dir, {
      signal: Context.current().cancellationSignal,
      sandbox: await commandSandbox(ctx),
    });
    if (run.exitCode !== 0) {
      return fail([
        `tests failed after rebasing ${branch} onto ${main} (\`${testCommand}\` exited ${run.timedOut ? 'on timeout' : run.exitCode}); last lines:\n${run.tail}`,
      ]);
    }
  }

  const rebased = (await git('rev-parse', 'HEAD')).trim();
  // The item branch follows the rebase (later stages commit their logs onto it); nobody else
  // writes to it while the lease is held, and --force-with-lease refuses if someone did.
  await git(
    'push',
    '--quiet',
    `--force-with-lease=refs/heads/${branch}:${before}`,
    'origin',
    `HEAD:refs/heads/${branch}`,
  );
  const how = await integration.merge(rebased);
  log.info('merged', { ticket: ctx.input.ticket, branch, into: main, how });
  return pass(
    `merged ${branch} into ${main} ${how} (${project.mergeStyle}${testCommand ? `, \`${testCommand}\` passed` : ', no test command configured'})`,
  );
}

/** Merge with git in the gate's clone and push the default branch. */
function localIntegration(ctx: GateContext, git: (...args: string[]) => Promise<string>): Integration {
  const main = ctx.project.defaultBranch;
  return {
    alreadyMerged: async () => undefined,
    async merge(rebased) {
      await git('checkout', '--quiet', '-B', main, `origin/${main}`);
      if (ctx.project.mergeStyle === 'fast-forward') await git('merge', '--quiet', '--ff-only', rebased);
      else await git('merge', '--quiet', '--no-ff', '-m', mergeTitle(ctx), rebased);
      await git('push', '--quiet', 'origin', `HEAD:refs/heads/${main}`);
      return `as ${(await git('rev-parse', 'HEAD')).trim().slice(0, 12)}`;
    },
  };
}

function apiIntegration(ctx: GateContext, mergedHead: () => Promise<string>): Integration {
  if (!ctx.gitea)
    throw needsPerson(
      `${ctx.projectKey} merges through the Gitea API, which is not configured: set ORCH_GITEA_API_URL and ORCH_GITEA_TOKEN`,
    );
  return giteaMerge(ctx, ctx.gitea, { title: mergeTitle(ctx), mergedHead });
}

export function mergeTitle(ctx: GateContext): string {
  return `Merge ${ctx.branch} (${ctx.input.ticket})`;
}

function pass(finding: string): GateOutcome {
  return { gate: 'merge', verdict: 'PASS', findings: [finding] };
}

function fail(findings: string[]): GateOutcome {
  return { gate: 'merge', verdict: 'FAIL', findings };
}
