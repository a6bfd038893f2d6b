// The activities the worker registers. Capabilities not built yet are the honest
// not-implemented versions; each later module replaces its entry here.
import type { WorkItemActivities } from '../domain';
import type { AppConfig } from '../config';
import type { GiteaClient } from '../tracker/gitea-client';
import type { PlaneClient } from '../tracker/plane-client';
import { createGateActivities } from './gates';
import { notImplementedActivities } from './not-implemented';
import { createTrackerActivities } from './tracker';

/** Tracker API clients, absent where the instance does not configure that tracker. */
export interface TrackerClients {
  readonly plane?: PlaneClient;
  readonly gitea?: GiteaClient;
}

export function createActivities(config: AppConfig, trackers: TrackerClients): WorkItemActivities {
  return {
    ...notImplementedActivities,
    ...createGateActivities(config),
    ...createTrackerActivities({ config, ...trackers }),
  };
}
