// The build checkout of a project (<data>/build/<project>): where the image-freshness gate builds
// and the deploy steps and rollback run, always at an exact commit of the default branch. Kept
// between runs on purpose: build caches live there.
import path from 'node:path';
import { heartbeat } from '@temporalio/activity';
import { repositoryUrl, type AppConfig, type ProjectConfig } from '../config';
import { GitMirror, ensureClone, mirrorDir, runGit } from './git/repository';
import { heartbeatEveryMs } from './heartbeat-interval';

export function buildCheckoutDir(config: AppConfig, project: string): string {
  return path.join(config.dataDir, 'build', project);
}

/** Fetches and checks out `revision` (or what `ref` names on origin); returns the directory and the commit. */
export async function buildCheckoutAt(
  config: AppConfig,
  project: string,
  url: string,
  ref: { readonly revision?: string; readonly branch?: string },
): Promise<{ dir: string; revision: string }> {
  const dir = buildCheckoutDir(config, project);
  await ensureClone(url, dir);
  await runGit(['-C', dir, 'fetch', '--quiet', '--prune', 'origin']);
  const revision = ref.revision ?? (await runGit(['-C', dir, 'rev-parse', `refs/remotes/origin/${ref.branch}`])).trim();
  await runGit(['-C', dir, 'checkout', '--quiet', '--force', '--detach', revision]);
  return { dir, revision };
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
    const { dir, revision } = await buildCheckoutAt(config, projectKey, url, {
      revision: await mirror.resolve(`refs/heads/${project.defaultBranch}`),
    });
    return await work({ url, mirror, dir, revision });
  } finally {
    clearInterval(timer);
  }
}
