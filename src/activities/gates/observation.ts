// The observation gate (after the production deploy's artifacts): probes the production health
// URL for the project's observation window. A failed probe ends the window: the project's rollback
// command runs and the item goes back to development with the evidence. The result is written to
// 16-post-deploy-log.md (observation_status) on the item's branch and read back.
//
// The window is durable: every probe is checkpointed in the activity heartbeat, so when the worker
// dies (or is replaced by a deploy) the retry continues the same window with the probes seen so
// far, instead of starting a new one or losing a failure.
import { Context, sleep } from '@temporalio/activity';
import YAML from 'yaml';
import { OBSERVATION_REPORT, workItemDocsDir, type GateOutcome } from '../../domain';
import { probeHealth, type Probe } from '../health';
import { withBuildCheckout } from '../build-checkout';
import { runRollbackCommand } from '../production-rollback';
import { readVerdict } from './frontmatter';
import type { GateContext } from './types';

/** Probes kept in the checkpoint and the log: the first failure always, then the latest ones. */
const PROBES_KEPT = 50;

/** What an attempt has seen of the window so far. */
export interface ObservationCheckpoint {
  readonly revision: string;
  readonly startedAtMs: number;
  readonly probeCount: number;
  readonly probes: readonly Probe[];
  readonly failed?: Probe;
}

export async function runObservationGate(ctx: GateContext): Promise<GateOutcome> {
  const url = ctx.project.health.productionUrl as string;
  const { windowMs, probeIntervalMs } = ctx.project.observation;
  const signal = Context.current().cancellationSignal;
  const revision = await ctx.mirror.resolve(`refs/heads/${ctx.project.defaultBranch}`);
  let seen = resumable(ctx.checkpoints.previous, revision) ?? {
    revision,
    startedAtMs: Date.now(),
    probeCount: 0,
    probes: [],
  };
  const end = seen.startedAtMs + windowMs;
  while (!seen.failed && (seen.probeCount === 0 || Date.now() + probeIntervalMs <= end)) {
    // The activity's sleep ends early (rejecting) when the gate is cancelled.
    if (seen.probeCount > 0) await sleep(probeIntervalMs);
    const probe = await probeHealth(url, Math.min(probeIntervalMs, 10_000));
    seen = {
      ...seen,
      probeCount: seen.probeCount + 1,
      probes: [...seen.probes, probe].slice(-PROBES_KEPT),
      failed: probe.ok ? undefined : probe,
    };
    ctx.checkpoints.save(seen);
  }
  // In the build checkout at the revision observed, held like a deploy's (ADR-0030).
  const rollback = seen.failed
    ? await withBuildCheckout(
        ctx.config,
        ctx.projectKey,
        ctx.repositoryUrl,
        { revision },
        ({ dir }) => runRollbackCommand(dir, ctx.project, revision, signal),
        signal,
      )
    : undefined;
  const status = seen.failed ? 'DEGRADED' : 'HEALTHY';
  const file = `${workItemDocsDir(ctx.input.ticket)}/${OBSERVATION_REPORT.path}`;
  const report = render(status, url, windowMs, seen, rollback?.detail);
  await ctx.mirror.commitFile(
    ctx.repositoryUrl,
    ctx.branch,
    file,
    report,
    `chore(${ctx.input.ticket}): post-deploy observation (${status})`,
  );

  const written = await ctx.mirror.show(`refs/heads/${ctx.branch}`, file);
  const reading = written === undefined ? undefined : readVerdict(file, written, OBSERVATION_REPORT.verdict!);
  if (!reading || !reading.ok)
    return {
      gate: 'observation',
      verdict: 'FAIL',
      findings: [reading && !reading.ok ? reading.finding : `${file} could not be read back`],
    };
  if (reading.value !== 'HEALTHY' || seen.failed) {
    const failed = seen.failed;
    return {
      gate: 'observation',
      verdict: 'FAIL',
      findings: [
        `production became unhealthy after the deploy of ${revision.slice(0, 12)}: ${failed?.detail ?? 'see the log'} at ${failed?.at ?? '?'}; ${rollback?.detail}`,
      ],
    };
  }
  return {
    gate: 'observation',
    verdict: 'PASS',
    findings: [`healthy for ${seen.probeCount} probe(s) over ${windowMs} ms at ${url}`],
  };
}

/** The previous attempt's checkpoint when it watched the same deploy; anything else starts anew. */
export function resumable(previous: unknown, revision: string): ObservationCheckpoint | undefined {
  if (typeof previous !== 'object' || previous === null) return undefined;
  const p = previous as Partial<ObservationCheckpoint>;
  const wellFormed =
    p.revision === revision &&
    typeof p.startedAtMs === 'number' &&
    typeof p.probeCount === 'number' &&
    Array.isArray(p.probes);
  return wellFormed ? (p as ObservationCheckpoint) : undefined;
}

function render(status: string, url: string, windowMs: number, seen: ObservationCheckpoint, rollback?: string): string {
  const frontmatter = {
    observation_status: status,
    revision: seen.revision,
    health_url: url,
    window_ms: windowMs,
    window_started_at: new Date(seen.startedAtMs).toISOString(),
    probes: seen.probeCount,
    failed_probe: seen.failed ?? null,
    rollback: rollback ?? null,
  };
  const omitted = seen.probeCount - seen.probes.length;
  const lines = [
    ...(omitted > 0 ? [`- … ${omitted} earlier healthy probe(s)`] : []),
    ...seen.probes.map((p) => `- ${p.at}: ${p.ok ? 'ok' : 'FAILED'} (${p.detail})`),
  ];
  return `---\n${YAML.stringify(frontmatter)}---\n\n# Post-deploy observation: ${status}\n\n${lines.join('\n')}\n${rollback ? `\n${rollback}\n` : ''}`;
}
