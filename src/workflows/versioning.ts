// Worker Versioning inside the workflow (ADR-0028). An unversioned worker still reports a build
// ID (the SDK's own) with no deployment name: only a build of a Worker Deployment counts here.
import { workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior, WorkflowDefinitionOptionsOrGetter } from '@temporalio/common';

/** The build of the Worker Deployment running this workflow task; undefined when unversioned. */
export function deploymentBuild(): string | undefined {
  const version = workflowInfo().currentDeploymentVersion;
  return version?.deploymentName ? version.buildId : undefined;
}

/**
 * A workflow type's versioning behaviour, declared only when its worker is versioned: the server
 * refuses a behaviour from an unversioned worker (ORCH_WORKER_VERSIONING=off, the test harnesses).
 * The getter runs at the run's first task.
 */
export function whenVersioned(versioningBehavior: VersioningBehavior): WorkflowDefinitionOptionsOrGetter {
  return () => (deploymentBuild() !== undefined ? { versioningBehavior } : {});
}
