// Runs the project's rollback command against production: after a failed post-deploy probe (the
// observation gate) or when a person rolls an item back from the deploy stage. The command runs
// in the build checkout with the revision being rolled back from; it must be safe to repeat,
// because a retried activity may run it again.
import type { AppConfig, ProjectConfig } from '../config';
import { buildCheckoutDir } from './build-checkout';
import { runProjectCommand } from './project-command';

export interface RollbackResult {
  /** False when the command failed or none is configured: production may still be degraded. */
  readonly ok: boolean;
  readonly detail: string;
}

export async function rollBackProduction(config: AppConfig, projectKey: string, project: ProjectConfig, fromRevision: string, signal: AbortSignal): Promise<RollbackResult> {
  const command = project.commands.rollback;
  if (!command) return { ok: false, detail: 'no rollback command is configured (commands.rollback): production still runs the degraded revision' };
  const run = await runProjectCommand(command, buildCheckoutDir(config, projectKey), { signal, env: { ORCH_REVISION: fromRevision, ORCH_ENVIRONMENT: 'production' } });
  return run.exitCode === 0
    ? { ok: true, detail: `rollback \`${command}\` succeeded` }
    : { ok: false, detail: `rollback \`${command}\` FAILED (exit ${run.timedOut ? 'timeout' : run.exitCode}): ${run.tail}` };
}
