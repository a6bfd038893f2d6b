// The activities the worker registers. Capabilities not built yet are the honest
// not-implemented versions; each later module replaces its entry here.
import type { WorkItemActivities } from '../domain';
import type { AppConfig } from '../config';
import { notImplementedActivities } from './not-implemented';

export function createActivities(_config: AppConfig): WorkItemActivities {
  return { ...notImplementedActivities };
}
