// At start, a versioned worker makes its own version current when its policy says so (ADR-0028):
// `if-none` for the deployment's very first build (otherwise nothing would run anything: new work
// goes to the current version, and there is none), `always` for npm start (one process, the code
// in front of you), `never` when a release procedure decides (scripts/release-worker.sh).
import type { Client } from '@temporalio/client';
import { describeDeployment, setCurrentVersion, waitForVersion } from '../temporal/worker-deployments';
import type { Logger } from '../util/logger';
import type { WorkerVersioning } from '../temporal/deployment-version';

/** How long the server may take to register the version after the worker's first poll. */
const REGISTRATION_TIMEOUT_MS = 60_000;

export interface DeploymentAtStart {
  readonly deployment: string;
  readonly buildId: string;
  /** Whether this worker's version is the current one once started. */
  readonly current: boolean;
}

export async function takeRoutingIfDue(
  client: Client,
  namespace: string,
  versioning: WorkerVersioning,
  logger: Logger,
): Promise<DeploymentAtStart> {
  const { deploymentName, buildId } = versioning.version;
  const target = { connection: client.connection, namespace, deploymentName };
  const view = await waitForVersion(target, buildId, REGISTRATION_TIMEOUT_MS);
  const due = versioning.promote === 'always' || (versioning.promote === 'if-none' && view.current === undefined);
  if (due && view.current !== buildId) {
    await setCurrentVersion({ ...target, identity: `orchestrator-worker ${buildId}` }, buildId).catch(
      async (err: unknown) => {
        // Workers of one release starting together (several hosts) race to make it current:
        // a refusal is fine when another of them got there.
        if ((await describeDeployment(target))?.current !== buildId) throw err;
      },
    );
    logger.info('made this worker version current', {
      deployment: deploymentName,
      buildId,
      previous: view.current ?? null,
      promote: versioning.promote,
    });
  }
  const current = due || view.current === buildId;
  if (!current)
    logger.warn('this worker version is not current: it gets no new work until it is released', {
      deployment: deploymentName,
      buildId,
      current: view.current,
      release: `orch versions set-current ${buildId}`,
    });
  return { deployment: deploymentName, buildId, current };
}
