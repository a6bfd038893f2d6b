// The activities the worker registers. Capabilities not built yet are the honest
// not-implemented versions; each later module replaces its entry here.
import type { WorkItemActivities } from '../domain';
import type { AppConfig } from '../config';
import { giteaClientFromConfig, giteaConfigured, planeClientFromConfig, planeConfigured } from '../tracker/from-config';
import { createGateActivities } from './gates';
import { notImplementedActivities } from './not-implemented';
import { createTrackerActivities } from './tracker';

export function createActivities(config: AppConfig): WorkItemActivities {
  return {
    ...notImplementedActivities,
    ...createGateActivities(config),
    ...createTrackerActivities({
      config,
      plane: planeConfigured(config) ? planeClientFromConfig(config) : undefined,
      gitea: giteaConfigured(config) ? giteaClientFromConfig(config) : undefined,
    }),
  };
}
