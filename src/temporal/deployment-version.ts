// Which Worker Deployment version a worker process is (#19, ADR-0028). The build ID names both
// what was released (the revision) and what workflow code runs (the bundle's hash): two workers
// with the same build ID run byte-identical workflow code, and a rebuilt bundle is a new version
// even on the same revision (a local change in a dev checkout).
import { execFileSync } from 'node:child_process';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { ConfigError, type AppConfig } from '../config';
import { DEPLOYMENT_NAME } from '../config/env';
import { PROJECT_ROOT } from '../config/paths';

export type PromotePolicy = 'if-none' | 'always' | 'never';

export interface WorkerVersioning {
  readonly version: WorkerDeploymentVersion;
  readonly promote: PromotePolicy;
}

/** The versioning of this worker process, or undefined with ORCH_WORKER_VERSIONING=off. */
export function workerVersioning(
  config: AppConfig,
  bundleHash: string,
  defaultPromote: PromotePolicy,
  revision: () => string = releaseRevision,
): WorkerVersioning | undefined {
  const { env } = config;
  if (env.ORCH_WORKER_VERSIONING === 'off') return undefined;
  return {
    version: {
      deploymentName: deploymentName(config),
      buildId: configuredBuildId(config, bundleHash, revision),
    },
    promote: env.ORCH_WORKER_PROMOTE ?? defaultPromote,
  };
}

/** ORCH_WORKER_BUILD_ID, or the release's revision and the bundle's hash. */
export function configuredBuildId(
  config: AppConfig,
  bundleHash: string,
  revision: () => string = releaseRevision,
): string {
  return config.env.ORCH_WORKER_BUILD_ID ?? buildId(revision(), bundleHash);
}

/** ORCH_WORKER_DEPLOYMENT, or the main task queue's name: one deployment per orchestrator. */
export function deploymentName(config: AppConfig): string {
  const name = config.env.ORCH_WORKER_DEPLOYMENT ?? config.env.ORCH_TASK_QUEUE;
  if (!DEPLOYMENT_NAME.test(name))
    throw new ConfigError(
      `the task queue ${JSON.stringify(name)} cannot name a Worker Deployment (letters, digits, dash and underscore): set ORCH_WORKER_DEPLOYMENT`,
    );
  return name;
}

/** `<revision, 12 characters>-<bundle hash, 12>`, with anything but [A-Za-z0-9_-] dropped from the revision. */
export function buildId(revision: string, bundleHash: string): string {
  const rev = revision.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 12) || 'unknown';
  return `${rev}-${bundleHash.slice(0, 12)}`;
}

/** ORCH_REVISION (a release sets it), else the checkout's commit, else `source`. */
export function releaseRevision(): string {
  const given = process.env.ORCH_REVISION;
  if (given) return given;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return 'source';
  }
}
