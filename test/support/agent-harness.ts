// The agent path for real: a git repository with a bare origin, a projects file, the scripted
// model server, and the configuration a worker with the real activities runs from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../src/config';
import { loadConfig } from '../../src/config';
import { pipelineScript, type PipelineScenario } from '../../src/dev/scripted-model/pipeline-script';
import {
  startScriptedModelServer,
  type ModelScript,
  type ScriptedModelServer,
} from '../../src/dev/scripted-model/server';
import { createRepo, type TestRepo } from './git-fixtures';
import type { WorkItemInput } from '../../src/domain';

export interface AgentRig {
  readonly repo: TestRepo;
  readonly model: ScriptedModelServer;
  readonly config: AppConfig;
  /** The environment a worker process is started with (same settings as `config`). */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export const AGENT_TIMEOUTS: WorkItemInput['timeouts'] = {
  agentMs: 180_000,
  gateMs: 60_000,
  deployMs: 60_000,
  heartbeatMs: 5_000,
  retryInitialIntervalMs: 100,
  retryMaximumAttempts: 3,
};

export interface RigOptions {
  /** Extra lines of the shop project's entry in projects.yaml. */
  readonly projectYaml?: string;
  /** The worker's task queue (the merge lease workflow is started on it). */
  readonly taskQueue?: string;
  /** The repository's first commit (createRepo's sample files by default). */
  readonly files?: Record<string, string>;
  /** More settings for the worker. */
  readonly env?: Record<string, string>;
  /** Changes how the model answers (a stall, a loop), around the pipeline's script. */
  readonly wrapScript?: (pipeline: ModelScript) => ModelScript;
}

export async function startAgentRig(scenario: PipelineScenario = {}, options: RigOptions = {}): Promise<AgentRig> {
  const { projectYaml = '', taskQueue = 'orchestrator' } = options;
  const repo = createRepo(options.files);
  const script = pipelineScript(scenario);
  const model = await startScriptedModelServer(options.wrapScript ? options.wrapScript(script) : script);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-agent-rig-'));
  const projectsFile = path.join(dir, 'projects.yaml');
  fs.writeFileSync(
    projectsFile,
    `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    budgetUsd: 5\n${projectYaml}`,
  );
  const env = {
    ORCH_PROJECTS_FILE: projectsFile,
    ORCH_DATA_DIR: path.join(dir, 'data'),
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key',
    ORCH_AGENT_MODEL: 'claude-scripted',
    ORCH_LOG_LEVEL: 'warn',
    // The merge lease workflow is started on this queue.
    ORCH_TASK_QUEUE: taskQueue,
    ...options.env,
  };
  return {
    repo,
    model,
    config: loadConfig({ ...env }, dir),
    env,
    close: () => model.close(),
  };
}

/** `git log` subjects of the item branch on origin since `base`, newest first. */
export function originLog(repo: TestRepo, branch: string, base = 'origin/main'): string[] {
  repo.git('fetch', '--quiet', 'origin');
  return repo.git('log', '--format=%s', `origin/${branch}`, '--not', base).split('\n').filter(Boolean);
}

export function originFile(repo: TestRepo, branch: string, file: string): string | undefined {
  repo.git('fetch', '--quiet', 'origin');
  try {
    return repo.git('show', `origin/${branch}:${file}`);
  } catch {
    return undefined;
  }
}
