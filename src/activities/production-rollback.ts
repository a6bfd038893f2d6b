// Rolling production back. `runRollbackCommand` runs the project's rollback command: after a
// failed post-deploy probe (the observation gate) or when a person rolls an item back from the
// deploy stage. It runs in the build checkout the caller holds (withBuildCheckout, ADR-0030),
// checked out at the revision being rolled back from, and must be safe to repeat, because a
// retried activity may run it again. The rollbackProduction activity
// (a person's rollback after the production deploy started) runs it on the default branch's
// checkout, checks production's health, and records 18-rollback-log.md on the item's branch.
import { Context, log } from '@temporalio/activity';
import YAML from 'yaml';
import type { AppConfig, ProjectConfig } from '../config';
import {
  ROLLBACK_REPORT,
  workItemDocsDir,
  type ProductionRollbackInput,
  type ProductionRollbackResult,
} from '../domain';
import { onDefaultBranchCheckout } from './build-checkout';
import { needsPerson } from './failures';
import { waitHealthy } from './health';
import { runProjectCommand } from './project-command';

export interface RollbackResult {
  /** False when the command failed or none is configured: production may still be degraded. */
  readonly ok: boolean;
  readonly detail: string;
}

/** Runs in `checkout`, the build checkout its caller holds (withBuildCheckout's `dir`). */
export async function runRollbackCommand(
  checkout: string,
  project: ProjectConfig,
  fromRevision: string,
  signal: AbortSignal,
): Promise<RollbackResult> {
  const command = project.commands.rollback;
  if (!command)
    return {
      ok: false,
      detail: 'no rollback command is configured (commands.rollback): production still runs the degraded revision',
    };
  const run = await runProjectCommand(command, checkout, {
    signal,
    env: { ORCH_REVISION: fromRevision, ORCH_ENVIRONMENT: 'production' },
  });
  return run.exitCode === 0
    ? { ok: true, detail: `rollback \`${command}\` succeeded` }
    : {
        ok: false,
        detail: `rollback \`${command}\` FAILED (exit ${run.timedOut ? 'timeout' : run.exitCode}): ${run.tail}`,
      };
}

export function createProductionRollbackActivities(config: AppConfig) {
  return {
    async rollbackProduction(input: ProductionRollbackInput): Promise<ProductionRollbackResult> {
      const project = config.projects[input.project];
      if (!project) throw needsPerson(`project ${input.project} is not configured`);
      return onDefaultBranchCheckout(
        config,
        input.project,
        project,
        { rollback: input.ticket },
        async ({ url, mirror, dir, revision }) => {
          const rollback = await runRollbackCommand(dir, project, revision, Context.current().cancellationSignal);
          const healthUrl = project.health.productionUrl;
          const health =
            rollback.ok && healthUrl
              ? await waitHealthy(healthUrl, project.health.timeoutMs, project.health.intervalMs)
              : undefined;
          const ok = rollback.ok && (health?.ok ?? true);
          const detail = `${rollback.detail}${health ? `; production health: ${health.detail}` : ''}`;
          const status = ok ? ROLLBACK_REPORT.verdict!.pass : ROLLBACK_REPORT.verdict!.fail;
          const file = `${workItemDocsDir(input.ticket)}/${ROLLBACK_REPORT.path}`;
          await mirror.commitFile(
            url,
            input.branch,
            file,
            render(status, revision, input, detail),
            `chore(${input.ticket}): production rollback (${status})`,
          );
          log.info('production rolled back', { ticket: input.ticket, revision, status });
          return { ok, detail: `production rollback from ${revision.slice(0, 12)}: ${detail}` };
        },
      );
    },
  };
}

function render(status: string, revision: string, input: ProductionRollbackInput, detail: string): string {
  const frontmatter = {
    [ROLLBACK_REPORT.verdict!.field]: status,
    rolled_back_from: revision,
    requested_by: input.by,
    reason: input.reason ?? null,
    at: new Date().toISOString(),
  };
  return `---\n${YAML.stringify(frontmatter)}---\n\n# Production rollback: ${status}\n\nRequested by ${input.by}${input.reason ? ` (${input.reason})` : ''} while the item was at the deploy stage.\n\n${detail}\n`;
}
