// The build checkout of a project (<data>/build/<project>): where the image-freshness gate builds
// and the deploy steps and rollback run, always at an exact commit of the default branch. Kept
// between runs on purpose: build caches live there.
import path from 'node:path';
import type { AppConfig } from '../config';
import { ensureClone, runGit } from './git/repository';

export function buildCheckoutDir(config: AppConfig, project: string): string {
  return path.join(config.dataDir, 'build', project);
}

/** Fetches and checks out `revision` (or what `ref` names on origin); returns the directory and the commit. */
export async function buildCheckoutAt(config: AppConfig, project: string, url: string, ref: { readonly revision?: string; readonly branch?: string }): Promise<{ dir: string; revision: string }> {
  const dir = buildCheckoutDir(config, project);
  await ensureClone(url, dir);
  await runGit(['-C', dir, 'fetch', '--quiet', '--prune', 'origin']);
  const revision = ref.revision ?? (await runGit(['-C', dir, 'rev-parse', `refs/remotes/origin/${ref.branch}`])).trim();
  await runGit(['-C', dir, 'checkout', '--quiet', '--force', '--detach', revision]);
  return { dir, revision };
}
