// `orch versions`: the orchestrator's Worker Deployment (ADR-0028). Shows its builds, which is
// current, the ramp and how many open work items each runs; makes a build current, ramps one,
// prints this release's build ID, and replays the open items against a bundle (the release gate).
import { DEPLOYMENT_NAME } from '../config/env';
import { prebuiltBundle, WORKFLOW_BUNDLE_FILE } from '../temporal/workflow-bundle-file';
import { configuredBuildId, deploymentName } from '../temporal/deployment-version';
import {
  describeDeployment,
  setCurrentVersion,
  setRampingVersion,
  type DeploymentTarget,
  type DeploymentView,
} from '../temporal/worker-deployments';
import { replayOpenWorkflows } from '../temporal/replay-gate';
import { waitUntilDrained } from '../temporal/version-drainage';
import { CliError, type CommandContext, type CommandOutput } from './context';

export interface VersionsOptions {
  readonly by: string;
  readonly bundle?: string;
}

const USAGE =
  'use: orch versions [current | set-current BUILD | ramp BUILD PERCENT | ramp off | drain BUILD [SECONDS] | build-id | check-replay [--bundle FILE]]';

/** Open replays at most this many items (the newest): a gate, not an archive scan. */
const REPLAY_LIMIT = 500;

export async function versionsCommand(
  positionals: readonly string[],
  options: VersionsOptions,
  ctx: CommandContext,
): Promise<CommandOutput> {
  const [action, ...rest] = positionals;
  const deployment = deploymentName(ctx.config);
  /** The deployment as the server holds it, changed in the name of `--by`. */
  const target = async (): Promise<DeploymentTarget> => ({
    connection: (await ctx.client()).connection,
    namespace: ctx.config.env.TEMPORAL_NAMESPACE,
    deploymentName: deployment,
    identity: options.by,
  });
  switch (action) {
    case undefined:
      return show(ctx, await target());
    case 'build-id': {
      const bundle = prebuiltBundle(options.bundle ?? WORKFLOW_BUNDLE_FILE);
      if (!bundle)
        throw new CliError(`versions: no workflow bundle at ${options.bundle ?? WORKFLOW_BUNDLE_FILE}: npm run build`);
      const id = configuredBuildId(ctx.config, bundle.hash);
      return { json: { deployment, buildId: id }, text: id };
    }
    case 'current': {
      const view = await describeDeployment(await target());
      return { json: { deployment, current: view?.current ?? null }, text: view?.current ?? '' };
    }
    case 'drain': {
      const [build, secondsText = '600'] = rest;
      checkBuild(build);
      const seconds = Number(secondsText);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86_400)
        throw new CliError(
          `versions: drain waits a whole number of seconds up to 86400, got ${JSON.stringify(secondsText)}`,
        );
      const client = await ctx.client();
      const left = await waitUntilDrained(client, ctx.config.env.ORCH_TASK_QUEUE, deployment, build, seconds * 1000);
      if (left > 0)
        throw new Error(
          `${left} pinned workflows still run on ${build} after ${seconds} s: keep its workers until they end`,
        );
      return { json: { deployment, drained: build }, text: `${deployment}: nothing pinned runs on ${build}` };
    }
    case 'set-current': {
      const [build] = rest;
      checkBuild(build);
      await setCurrentVersion(await target(), build);
      return { json: { deployment, current: build }, text: `${deployment}: ${build} is current` };
    }
    case 'ramp': {
      const [build, percentText] = rest;
      const off = build === 'off';
      const percent = Number(percentText);
      if (!off) {
        checkBuild(build);
        if (!percentText || !Number.isFinite(percent) || percent <= 0 || percent > 100)
          throw new CliError(
            `versions: ramp needs a percentage above 0 and at most 100, got ${JSON.stringify(percentText ?? '')}`,
          );
      }
      if (off) {
        await setRampingVersion(await target(), undefined, 0);
        return { json: { deployment, ramping: null }, text: `${deployment}: no ramp` };
      }
      await setRampingVersion(await target(), build as string, percent);
      return {
        json: { deployment, ramping: { buildId: build, percentage: percent } },
        text: `${deployment}: ${build} gets ${percent}% of new work and of auto-upgrade items`,
      };
    }
    case 'check-replay': {
      const bundle = options.bundle ?? WORKFLOW_BUNDLE_FILE;
      if (!prebuiltBundle(bundle)) throw new CliError(`versions: no workflow bundle at ${bundle}: npm run build`);
      const result = await replayOpenWorkflows(
        await ctx.client(),
        ctx.config.env.ORCH_TASK_QUEUE,
        bundle,
        REPLAY_LIMIT,
      );
      const summary = `replayed ${result.replayed} open workflows against ${bundle}${result.truncated ? ` (the newest ${REPLAY_LIMIT})` : ''}`;
      if (result.failures.length > 0) {
        const lines = result.failures.map((f) => `  ${f.workflowId}: ${f.error.split('\n')[0]}`);
        // Not a usage error: the operation's answer is "no", exit 1 (describeClientError prints it).
        throw new Error(`${summary}: ${result.failures.length} would fail on this build\n${lines.join('\n')}`);
      }
      return { json: result, text: `${summary}: all replay` };
    }
    default:
      throw new CliError(`versions: unknown action ${JSON.stringify(action)} (${USAGE})`);
  }
}

function checkBuild(build: string | undefined): asserts build is string {
  if (!build || !DEPLOYMENT_NAME.test(build))
    throw new CliError(`versions: which build? a build ID is letters, digits, dash and underscore (${USAGE})`);
}

async function show(ctx: CommandContext, target: DeploymentTarget): Promise<CommandOutput> {
  const deployment = target.deploymentName;
  const view = await describeDeployment(target);
  if (!view)
    return {
      json: { deployment, versions: [] },
      text: `${deployment}: no versioned worker has polled yet (ORCH_WORKER_VERSIONING=off, or no worker started)`,
    };
  const items = await itemsPerVersion(ctx, view);
  const rows = view.versions.map((v) => ({ ...v, items: items.get(v.buildId) ?? 0 }));
  const unversioned = items.get('') ?? 0;
  const lines = [
    `deployment ${deployment}`,
    `current   ${view.current ?? '(none)'}`,
    `ramping   ${view.ramping ? `${view.ramping.buildId} at ${view.ramping.percentage}%` : '(none)'}`,
    ...rows.map(
      (r) => `  ${r.buildId}  ${r.status}  ${r.items} open items${r.createdAt ? `  since ${r.createdAt}` : ''}`,
    ),
    ...(unversioned > 0 ? [`  (unversioned)  ${unversioned} open items`] : []),
  ];
  return { json: { ...view, versions: rows, unversionedItems: unversioned }, text: lines.join('\n') };
}

/** Open work items per build they last ran on (the server's TemporalWorkerDeploymentVersion). */
async function itemsPerVersion(ctx: CommandContext, view: DeploymentView): Promise<Map<string, number>> {
  const client = await ctx.client();
  const open = `WorkflowType = 'workItem' AND ExecutionStatus = 'Running' AND TaskQueue = '${ctx.config.env.ORCH_TASK_QUEUE}'`;
  const counts = new Map<string, number>();
  for (const v of view.versions) {
    const { count } = await client.workflow.count(
      `${open} AND TemporalWorkerDeploymentVersion = '${view.name}:${v.buildId}'`,
    );
    counts.set(v.buildId, count);
  }
  const { count: all } = await client.workflow.count(open);
  counts.set('', Math.max(0, all - [...counts.values()].reduce((a, b) => a + b, 0)));
  return counts;
}
