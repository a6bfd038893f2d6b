// An AppConfig for tests, built through the same validation as production.
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';

export const TEST_PROJECTS_YAML = `
projects:
  shop:
    ticketPrefix: SHOP
    repository: /srv/git/shop.git
    budgetUsd: 10
  visibility:
    ticketPrefix: VIS
    repository: /srv/git/visibility.git
    limits:
      maxGateRetries: 0
`;

export function testConfig(env: Record<string, string> = {}): AppConfig {
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({ ORCH_ACTIVITY_RETRY_INITIAL_MS: '10', ORCH_ACTIVITY_MAX_ATTEMPTS: '2', ...env }),
    projectsFile: 'test-projects.yaml',
    projects: parseProjects(TEST_PROJECTS_YAML, 'test-projects.yaml').projects,
    dataDir: '/nonexistent',
  };
}
