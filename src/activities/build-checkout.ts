// The build checkout of a project (<data>/build/<project>): where the image-freshness gate builds
// and the deploy steps and rollback run, always at an exact commit of the default branch. Kept
// between runs on purpose: build caches live there.
import path from 'node:path';
import { Context, heartbeat } from '@temporalio/activity';
import { repositoryUrl, type AppConfig, type ProjectConfig } from '../config';
import { withDirectoryLock } from './directory-lock';
import { GitMirror, ensureClone, mirrorDir, runGit } from './git/repository';
import { heartbeatEveryMs } from './heartbeat-interval';

export function buildCheckoutDir(config: AppConfig, project: string): string {
  return path.join(config.dataDir, 'build', project);
}

/** An exact commit, or the branch on origin whose head is checked out. */
export interface CheckoutRef {
  readonly revision?: string;
  readonly branch?: string;
}

/**
 * Runs `work` in the project's build checkout, fetched and checked out at `revision` (or at what
 * `ref.branch` names on origin) first. It holds the checkout until `work` ends: another build,
 * deploy or rollback of the project on this machine waits for it (ADR-0030).
 */
export async function withBuildCheckout<T>(
  config: AppConfig,
  project: string,
  url: string,
  ref: CheckoutRef,
  work: (at: { readonly dir: string; readonly revision: string }) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const dir = buildCheckoutDir(config, project);
  return withDirectoryLock(dir, async () => work({ dir, revision: await checkOut(dir, url, ref) }), signal);
}

async function checkOut(dir: string, url: string, ref: CheckoutRef): Promise<string> {
  await ensureClone(url, dir);
  await runGit(['-C', dir, 'fetch', '--quiet', '--prune', 'origin']);
  const revision = ref.revision ?? (await runGit(['-C', dir, 'rev-parse', `refs/remotes/origin/${ref.branch}`])).trim();
  await runGit(['-C', dir, 'checkout', '--quiet', '--force', '--detach', revision]);
  return revision;
}

export interface DefaultBranchCheckout {
  readonly url: string;
  readonly mirror: GitMirror;
  readonly dir: string;
  /** The default branch's head, checked out in `dir`. */
  readonly revision: string;
}

/**
 * Runs `work` in the build checkout at the head of the default branch (deploys and rollbacks act
 * on what is merged), heartbeating `beat` meanwhile.
 */
export async function onDefaultBranchCheckout<T>(
  config: AppConfig,
  projectKey: string,
  project: ProjectConfig,
  beat: unknown,
  work: (at: DefaultBranchCheckout) => Promise<T>,
): Promise<T> {
  const timer = setInterval(() => heartbeat(beat), heartbeatEveryMs(2000));
  try {
    const url = repositoryUrl(config, project);
    const mirror = await GitMirror.sync(url, mirrorDir(config.dataDir, projectKey));
    const revision = await mirror.resolve(`refs/heads/${project.defaultBranch}`);
    return await withBuildCheckout(
      config,
      projectKey,
      url,
      { revision },
      ({ dir }) => work({ url, mirror, dir, revision }),
      Context.current().cancellationSignal,
    );
  } finally {
    clearInterval(timer);
  }
}
