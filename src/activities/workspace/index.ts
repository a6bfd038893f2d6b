// The workspace activity the workflow calls when an item is delivered.
import type { AppConfig } from '../../config';
import type { WorkspaceRef } from '../../domain';
import { removeWorkspace } from './workspace';

export function createWorkspaceActivities(config: AppConfig) {
  return {
    async releaseWorkspace(input: WorkspaceRef): Promise<void> {
      removeWorkspace(config.dataDir, input.project, input.ticket);
    },
  };
}
