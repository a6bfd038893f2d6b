// The configuration the bench's agent figures run the real runner with: one project `bench` on the
// scripted model, everything under `dir`.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../config';

export function agentBenchConfig(
  dir: string,
  modelUrl: string,
  options: { readonly repository?: string; readonly env?: Record<string, string> } = {},
): AppConfig {
  const projects = path.join(dir, 'projects.yaml');
  fs.writeFileSync(
    projects,
    `projects:\n  bench:\n    ticketPrefix: BENCH\n    repository: ${options.repository ?? '/nonexistent'}\n    budgetUsd: 5\n`,
  );
  return loadConfig(
    {
      ORCH_PROJECTS_FILE: projects,
      ORCH_DATA_DIR: path.join(dir, 'data'),
      ANTHROPIC_API_KEY: 'sk-ant-bench-scripted-key',
      ANTHROPIC_BASE_URL: modelUrl,
      ORCH_LOG_LEVEL: 'error',
      ...options.env,
    },
    dir,
  );
}
