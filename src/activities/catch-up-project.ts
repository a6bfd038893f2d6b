// One project's catch-up, on its own: a failing tracker API is logged, counted and reported, and
// the other projects still catch up.
import { log } from '@temporalio/activity';
import { reconcileFailures, reconcileLastSuccess } from './metrics';

/** Runs `catchUp`; a failure is added to `failed` (`<project>: <reason>`) instead of thrown. */
export async function catchUpProject(
  tracker: 'plane' | 'gitea',
  project: string,
  failed: string[],
  catchUp: () => Promise<void>,
): Promise<void> {
  try {
    await catchUp();
    reconcileLastSuccess.set({ project, tracker }, Date.now() / 1000);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    reconcileFailures.inc({ project, tracker });
    log.warn('catch-up failed for a project; the others go on', { project, tracker, reason });
    failed.push(`${project}: ${reason}`);
  }
}
