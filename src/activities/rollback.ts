// The rollbackProduction activity: a person rolled a work item back from the deploy stage after
// its production deploy had started, so production may run the item's code. The project's
// rollback command runs on the build checkout of the current default branch (the revision rolled
// back from), production's health is checked, and 18-rollback-log.md records the outcome on the
// item's branch.
import { Context, log } from '@temporalio/activity';
import YAML from 'yaml';
import type { AppConfig } from '../config';
import { ROLLBACK_REPORT, workItemDocsDir, type ProductionRollbackInput, type ProductionRollbackResult } from '../domain';
import { onDefaultBranchCheckout } from './build-checkout';
import { needsPerson } from './failures';
import { waitHealthy } from './health';
import { rollBackProduction } from './production-rollback';

export function createRollbackActivities(config: AppConfig) {
  return {
    async rollbackProduction(input: ProductionRollbackInput): Promise<ProductionRollbackResult> {
      const project = config.projects[input.project];
      if (!project) throw needsPerson(`project ${input.project} is not configured`);
      return onDefaultBranchCheckout(config, input.project, project, { rollback: input.ticket }, async ({ url, mirror, revision }) => {
        const rollback = await rollBackProduction(config, input.project, project, revision, Context.current().cancellationSignal);
        const healthUrl = project.health.productionUrl;
        const health = rollback.ok && healthUrl ? await waitHealthy(healthUrl, project.health.timeoutMs, project.health.intervalMs) : undefined;
        const ok = rollback.ok && (health?.ok ?? true);
        const detail = `${rollback.detail}${health ? `; production health: ${health.detail}` : ''}`;
        const status = ok ? ROLLBACK_REPORT.verdict!.pass : ROLLBACK_REPORT.verdict!.fail;
        const file = `${workItemDocsDir(input.ticket)}/${ROLLBACK_REPORT.path}`;
        await mirror.commitFile(url, input.branch, file, render(status, revision, input, detail), `chore(${input.ticket}): production rollback (${status})`);
        log.info('production rolled back', { ticket: input.ticket, revision, status });
        return { ok, detail: `production rollback from ${revision.slice(0, 12)}: ${detail}` };
      });
    },
  };
}

function render(status: string, revision: string, input: ProductionRollbackInput, detail: string): string {
  const frontmatter = { [ROLLBACK_REPORT.verdict!.field]: status, rolled_back_from: revision, requested_by: input.by, reason: input.reason ?? null, at: new Date().toISOString() };
  return `---\n${YAML.stringify(frontmatter)}---\n\n# Production rollback: ${status}\n\nRequested by ${input.by}${input.reason ? ` (${input.reason})` : ''} while the item was at the deploy stage.\n\n${detail}\n`;
}
