// The merge gate (under the repository's merge lease, after the security gate): rebase the item's
// branch onto origin's default branch, run the project's test command on the result, merge and
// push. A conflict or failing tests send the item back to development with the evidence. A merge
// that already happened (a retry after a crash) is recognised and not repeated.
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import type { GateOutcome } from '../../domain';
import { ensureClone, gitSucceeds, runGit } from '../git/repository';
import { runProjectCommand } from '../project-command';
import type { GateContext } from './registry';

export async function runMergeGate(ctx: GateContext): Promise<GateOutcome> {
  const { project, branch } = ctx;
  const main = project.defaultBranch;
  const dir = path.join(ctx.config.dataDir, 'merge', ctx.projectKey);
  const git = (...args: string[]): Promise<string> => runGit(['-C', dir, ...args]);
  await ensureClone(ctx.repositoryUrl, dir);
  const succeeds = (...args: string[]): Promise<boolean> => gitSucceeds(['-C', dir, ...args]);
  await git('fetch', '--quiet', '--prune', 'origin');
  await git('reset', '--quiet', '--hard');
  await git('clean', '-fdxq');

  const remoteBranch = `refs/remotes/origin/${branch}`;
  if (!(await succeeds('rev-parse', '--verify', '--quiet', `${remoteBranch}^{commit}`))) return fail([`branch ${branch} does not exist in the repository`]);
  if (await succeeds('merge-base', '--is-ancestor', remoteBranch, `origin/${main}`)) {
    return pass(`${branch} is already merged into ${main} (${(await git('rev-parse', `origin/${main}`)).trim().slice(0, 12)})`);
  }

  const before = (await git('rev-parse', remoteBranch)).trim();
  await git('checkout', '--quiet', '-B', 'orchestrator-merge', remoteBranch);
  try {
    await git('rebase', '--quiet', `origin/${main}`);
  } catch {
    const conflicts = (await git('diff', '--name-only', '--diff-filter=U')).split('\n').filter(Boolean);
    await git('rebase', '--abort').catch(() => undefined);
    return fail([`rebasing ${branch} onto ${main} conflicts in: ${conflicts.join(', ') || '(unknown files)'}; rebase the branch onto ${main} and resolve them`]);
  }

  const testCommand = project.commands.test;
  if (testCommand) {
    const run = await runProjectCommand(testCommand, dir, { signal: Context.current().cancellationSignal });
    if (run.exitCode !== 0) {
      return fail([`tests failed after rebasing ${branch} onto ${main} (\`${testCommand}\` exited ${run.timedOut ? 'on timeout' : run.exitCode}); last lines:\n${run.tail}`]);
    }
  }

  const rebased = (await git('rev-parse', 'HEAD')).trim();
  // The item branch follows the rebase (later stages commit their logs onto it); nobody else
  // writes to it while the lease is held, and --force-with-lease refuses if someone did.
  await git('push', '--quiet', `--force-with-lease=refs/heads/${branch}:${before}`, 'origin', `HEAD:refs/heads/${branch}`);
  await git('checkout', '--quiet', '-B', main, `origin/${main}`);
  if (project.mergeStyle === 'fast-forward') await git('merge', '--quiet', '--ff-only', rebased);
  else await git('merge', '--quiet', '--no-ff', '-m', `Merge ${branch} (${ctx.input.ticket})`, rebased);
  await git('push', '--quiet', 'origin', `HEAD:refs/heads/${main}`);
  const merged = (await git('rev-parse', 'HEAD')).trim();
  log.info('merged', { ticket: ctx.input.ticket, branch, into: main, commit: merged });
  return pass(`merged ${branch} into ${main} as ${merged.slice(0, 12)} (${project.mergeStyle}${testCommand ? `, \`${testCommand}\` passed` : ', no test command configured'})`);
}

function pass(finding: string): GateOutcome {
  return { gate: 'merge', verdict: 'PASS', findings: [finding] };
}

function fail(findings: string[]): GateOutcome {
  return { gate: 'merge', verdict: 'FAIL', findings };
}
