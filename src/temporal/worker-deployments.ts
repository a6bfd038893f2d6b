// The Worker Deployment of the orchestrator's workers, as the server holds it (#19, ADR-0028):
// which versions (builds) exist, which is current, which ramps and by how much, and the two
// routing changes a release makes. Used by the worker at start (first build becomes current),
// by `orch versions` and by scripts/release-worker.sh through `orch versions`.
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface DeploymentVersionRow {
  readonly buildId: string;
  /** `current`, `ramping`, `draining`, `drained`, `inactive` (never current) or `unknown`. */
  readonly status: string;
  readonly createdAt?: string;
}

export interface DeploymentView {
  readonly name: string;
  readonly current?: string;
  readonly ramping?: { readonly buildId: string; readonly percentage: number };
  readonly versions: readonly DeploymentVersionRow[];
}

export interface DeploymentTarget {
  readonly connection: Pick<Connection, 'workflowService'>;
  readonly namespace: string;
  readonly deploymentName: string;
  /** Who changes the routing (shown in the Web UI as the last modifier). */
  readonly identity: string;
}

/** gRPC's NOT_FOUND: the deployment does not exist yet. */
const NOT_FOUND = 5;
const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const STATUS_NAMES: Record<number, string> = {
  [VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'current',
  [VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'ramping',
  [VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'draining',
  [VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'drained',
  [VersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE]: 'inactive',
};

/** The deployment, or undefined when no versioned worker of it has polled yet. */
export async function describeDeployment(
  target: Omit<DeploymentTarget, 'identity'>,
): Promise<DeploymentView | undefined> {
  let info: temporal.api.deployment.v1.IWorkerDeploymentInfo | null | undefined;
  try {
    ({ workerDeploymentInfo: info } = await target.connection.workflowService.describeWorkerDeployment({
      namespace: target.namespace,
      deploymentName: target.deploymentName,
    }));
  } catch (err) {
    if ((err as { code?: number }).code === NOT_FOUND) return undefined;
    throw err;
  }
  const routing = info?.routingConfig;
  const current = routing?.currentDeploymentVersion?.buildId ?? undefined;
  const ramping = routing?.rampingDeploymentVersion?.buildId
    ? { buildId: routing.rampingDeploymentVersion.buildId, percentage: routing.rampingVersionPercentage ?? 0 }
    : undefined;
  const versions = (info?.versionSummaries ?? [])
    .map((v) => ({
      buildId: v.deploymentVersion?.buildId ?? '',
      status: STATUS_NAMES[v.status ?? 0] ?? 'unknown',
      createdAt: timestamp(v.createTime),
    }))
    .filter((v) => v.buildId !== '')
    .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  return { name: target.deploymentName, current, ramping, versions };
}

/** Makes `buildId` current: new work and every auto-upgrade item go to it. Ends any ramp to it. */
export async function setCurrentVersion(target: DeploymentTarget, buildId: string): Promise<void> {
  await target.connection.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
    buildId,
    identity: target.identity,
  });
}

/** Sends `percentage` of new work (and of auto-upgrade items) to `buildId`; 0 with no build ends the ramp. */
export async function setRampingVersion(
  target: DeploymentTarget,
  buildId: string | undefined,
  percentage: number,
): Promise<void> {
  await target.connection.workflowService.setWorkerDeploymentRampingVersion({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
    buildId: buildId ?? '',
    percentage,
    identity: target.identity,
  });
}

/**
 * Waits until the server knows `buildId` as a version of the deployment: a worker of it has
 * polled. Only then can it be made current or ramped.
 */
export async function waitForVersion(
  target: Omit<DeploymentTarget, 'identity'>,
  buildId: string,
  timeoutMs: number,
): Promise<DeploymentView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await describeDeployment(target);
    if (view?.versions.some((v) => v.buildId === buildId)) return view;
    if (Date.now() >= deadline)
      throw new Error(
        `version ${buildId} of worker deployment ${target.deploymentName} did not appear within ${timeoutMs} ms: no worker of it polls`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

function timestamp(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (!t?.seconds) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}
