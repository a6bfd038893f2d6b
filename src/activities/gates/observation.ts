// The observation gate (after the production deploy's artifacts): probes the production health
// URL for the project's observation window. A failed probe ends the window: the project's rollback
// command runs and the item goes back to development with the evidence. The result is written to
// 16-post-deploy-log.md (observation_status) on the item's branch and read back.
import { Context } from '@temporalio/activity';
import YAML from 'yaml';
import { OBSERVATION_REPORT, workItemDocsDir, type GateOutcome } from '../../domain';
import { buildCheckoutDir } from '../build-checkout';
import { probeHealth, type Probe } from '../health';
import { runProjectCommand } from '../project-command';
import { readVerdict } from './frontmatter';
import type { GateContext } from './registry';

export async function runObservationGate(ctx: GateContext): Promise<GateOutcome> {
  const url = ctx.project.health.productionUrl as string;
  const { windowMs, probeIntervalMs } = ctx.project.observation;
  const signal = Context.current().cancellationSignal;
  const revision = await ctx.mirror.resolve(`refs/heads/${ctx.project.defaultBranch}`);
  const probes: Probe[] = [];
  const end = Date.now() + windowMs;
  for (;;) {
    const probe = await probeHealth(url, Math.min(probeIntervalMs, 10_000));
    probes.push(probe);
    if (!probe.ok || Date.now() + probeIntervalMs > end) break;
    await sleep(probeIntervalMs, signal);
  }
  const failed = probes.find((p) => !p.ok);
  let rollback: string | undefined;
  if (failed) {
    const command = ctx.project.commands.rollback;
    if (command) {
      const run = await runProjectCommand(command, buildCheckoutDir(ctx.config, ctx.projectKey), { signal, env: { ORCH_REVISION: revision, ORCH_ENVIRONMENT: 'production' } });
      rollback = run.exitCode === 0 ? `rollback \`${command}\` succeeded` : `rollback \`${command}\` FAILED (exit ${run.exitCode}): ${run.tail}`;
    } else {
      rollback = 'no rollback command is configured (commands.rollback): production still runs the degraded revision';
    }
  }
  const status = failed ? 'DEGRADED' : 'HEALTHY';
  const file = `${workItemDocsDir(ctx.input.ticket)}/${OBSERVATION_REPORT.path}`;
  const report = render(status, url, revision, windowMs, probes, rollback);
  await ctx.mirror.commitFile(ctx.repositoryUrl, ctx.branch, file, report, `chore(${ctx.input.ticket}): post-deploy observation (${status})`);

  const written = await ctx.mirror.show(`refs/heads/${ctx.branch}`, file);
  const reading = written === undefined ? undefined : readVerdict(file, written, OBSERVATION_REPORT.verdict!);
  if (!reading || !reading.ok) return { gate: 'observation', verdict: 'FAIL', findings: [reading && !reading.ok ? reading.finding : `${file} could not be read back`] };
  if (reading.value !== 'HEALTHY' || failed) {
    return { gate: 'observation', verdict: 'FAIL', findings: [`production became unhealthy after the deploy of ${revision.slice(0, 12)}: ${failed?.detail ?? 'see the log'} at ${failed?.at ?? '?'}; ${rollback}`] };
  }
  return { gate: 'observation', verdict: 'PASS', findings: [`healthy for ${probes.length} probe(s) over ${windowMs} ms at ${url}`] };
}

function render(status: string, url: string, revision: string, windowMs: number, probes: readonly Probe[], rollback?: string): string {
  const frontmatter = { observation_status: status, revision, health_url: url, window_ms: windowMs, probes: probes.length, failed_probe: probes.find((p) => !p.ok) ?? null, rollback: rollback ?? null };
  const lines = probes.map((p) => `- ${p.at}: ${p.ok ? 'ok' : 'FAILED'} (${p.detail})`);
  return `---\n${YAML.stringify(frontmatter)}---\n\n# Post-deploy observation: ${status}\n\n${lines.join('\n')}\n${rollback ? `\n${rollback}\n` : ''}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('cancelled'));
    }, { once: true });
  });
}
