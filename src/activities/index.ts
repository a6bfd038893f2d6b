// The activities the worker registers.
import type { Client } from '@temporalio/client';
import type { WorkItemActivities } from '../domain';
import type { AppConfig } from '../config';
import type { GiteaClient } from '../tracker/gitea-client';
import type { PlaneClient } from '../tracker/plane-client';
import { createAgentActivities } from './agent/run-agent';
import { projectSpendFromClient } from './agent/project-spend';
import { createDeployActivities } from './deploy';
import { createProductionRollbackActivities } from './production-rollback';
import { createGateActivities } from './gates';
import { createLeaseActivities } from './lease';
import { createTrackerActivities } from './tracker';
import { createWorkspaceActivities } from './workspace';

/** What the activities talk to besides the configuration; each is absent where not configured. */
export interface ActivityDeps {
  readonly plane?: PlaneClient;
  readonly gitea?: GiteaClient;
  /** For the project budget (spend from visibility) and the merge lease (signal-with-start). */
  readonly client?: Client;
}

/** Everything the worker registers: the work item's activities and the lease's. */
export type AllActivities = WorkItemActivities & ReturnType<typeof createLeaseActivities>;

export function createActivities(config: AppConfig, deps: ActivityDeps): AllActivities {
  return {
    ...createDeployActivities(config),
    ...createProductionRollbackActivities(config),
    ...createAgentActivities({
      config,
      spend: deps.client ? projectSpendFromClient(deps.client) : undefined,
    }),
    ...createGateActivities(config, { gitea: deps.gitea }),
    ...createTrackerActivities({ config, plane: deps.plane, gitea: deps.gitea }),
    ...createWorkspaceActivities(config),
    ...createLeaseActivities(config, deps.client),
  };
}
