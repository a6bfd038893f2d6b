// The activities the worker registers. Capabilities not built yet are the honest
// not-implemented versions; each later module replaces its entry here.
import type { WorkItemActivities } from '../domain';
import type { AppConfig } from '../config';
import { planeClientFromConfig } from '../tracker/from-config';
import { notImplementedActivities } from './not-implemented';
import { createTrackerActivities } from './tracker';

export function createActivities(config: AppConfig): WorkItemActivities {
  const planeConfigured = Boolean(config.env.ORCH_PLANE_API_URL && config.env.ORCH_PLANE_API_KEY && config.env.ORCH_PLANE_WORKSPACE);
  return {
    ...notImplementedActivities,
    ...createTrackerActivities({ config, plane: planeConfigured ? planeClientFromConfig(config) : undefined }),
  };
}
