// The whole configuration, loaded once at start of every entry point.
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { HostRouting } from '../domain/hosts';
import { DEFAULT_LIMITS } from '../domain/limits';
import { assertTicketId, InvalidIdError } from '../domain/ids';
import type { WorkItemTimeouts } from '../domain/work-item';
import { loadEnv, type EnvConfig } from './env';
import { ConfigError } from './errors';
import { loadProjects, type ProjectConfig, type ProjectsFile } from './projects';
import { PROJECT_ROOT } from './paths';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/connection-settings';

export { ConfigError } from './errors';
export type { ProjectConfig } from './projects';

export interface AppConfig {
  readonly env: EnvConfig;
  readonly projectsFile: string;
  readonly projects: ProjectsFile['projects'];
  readonly dataDir: string;
  /** How to reach Temporal (the temporal CLI's variables and profiles); env's address and namespace follow it. */
  readonly temporal: TemporalSettings;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = PROJECT_ROOT): AppConfig {
  const temporal = loadTemporalSettings(env);
  const parsed = { ...loadEnv(env), TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace };
  const projectsFile = path.resolve(cwd, parsed.ORCH_PROJECTS_FILE);
  const projects = loadProjects(projectsFile).projects;
  assertObservationFitsGateTimeout(projects, parsed, projectsFile);
  assertGiteaApiForMerges(projects, parsed, projectsFile);
  return { env: parsed, projectsFile, projects, dataDir: path.resolve(cwd, parsed.ORCH_DATA_DIR), temporal };
}

/** A project that merges through Gitea's API cannot merge at all without its credentials. */
function assertGiteaApiForMerges(projects: ProjectsFile['projects'], env: EnvConfig, file: string): void {
  const key = Object.keys(projects).find((k) => projects[k]?.gitea?.mergeThroughApi);
  if (key && (!env.ORCH_GITEA_API_URL || !env.ORCH_GITEA_TOKEN)) {
    throw new ConfigError(
      `${file}: projects.${key}.gitea.mergeThroughApi needs the Gitea API: set ORCH_GITEA_API_URL and ORCH_GITEA_TOKEN`,
    );
  }
}

/** The observation window runs inside one gate activity: a longer window could never pass. */
function assertObservationFitsGateTimeout(projects: ProjectsFile['projects'], env: EnvConfig, file: string): void {
  for (const [key, project] of Object.entries(projects)) {
    if (project.observation.windowMs >= env.ORCH_GATE_TIMEOUT_MS) {
      throw new ConfigError(
        `${file}: projects.${key}.observation.windowMs (${project.observation.windowMs}) must be shorter than ORCH_GATE_TIMEOUT_MS (${env.ORCH_GATE_TIMEOUT_MS})`,
      );
    }
  }
}

/** Projects whose items wait for CI, with what they need: the catch-up has work only there. */
export function projectsWaitingForCi(config: AppConfig): [string, ProjectConfig][] {
  return Object.entries(config.projects).filter(([, p]) => p.gitea && p.ci.requiredContexts.length > 0);
}

export function projectConfig(config: AppConfig, key: string): ProjectConfig {
  const project = config.projects[key];
  if (!project) {
    throw new ConfigError(
      `unknown project ${JSON.stringify(key)} (configured in ${config.projectsFile}: ${Object.keys(config.projects).join(', ')})`,
    );
  }
  return project;
}

/** The project a ticket belongs to, from its prefix (`SHOP-42` → the project with ticketPrefix SHOP). */
export function projectForTicket(config: AppConfig, ticket: string): string {
  assertTicketId(ticket);
  const prefix = ticket.slice(0, ticket.lastIndexOf('-'));
  const match = Object.entries(config.projects).find(([, p]) => p.ticketPrefix === prefix);
  if (!match) throw new InvalidIdError(`no configured project has ticket prefix ${prefix} (ticket ${ticket})`);
  return match[0];
}

/** Where the project's repository is; a local path in projects.yaml is relative to that file. */
export function repositoryUrl(config: AppConfig, project: ProjectConfig): string {
  const url = project.repository;
  return /^[a-z][a-z0-9+.-]*:\/\/|^[^/]+@[^/]+:/i.test(url)
    ? url
    : path.resolve(path.dirname(config.projectsFile), url);
}

export function workItemTimeouts(env: EnvConfig): WorkItemTimeouts {
  return {
    agentMs: env.ORCH_AGENT_TIMEOUT_MS,
    gateMs: env.ORCH_GATE_TIMEOUT_MS,
    deployMs: env.ORCH_DEPLOY_TIMEOUT_MS,
    heartbeatMs: env.ORCH_HEARTBEAT_TIMEOUT_MS,
    retryInitialIntervalMs: env.ORCH_ACTIVITY_RETRY_INITIAL_MS,
    retryMaximumAttempts: env.ORCH_ACTIVITY_MAX_ATTEMPTS,
  };
}

/** The pool queues of host-bound work and how long a host may leave its own queue untouched (ADR-0021, ADR-0023). */
export function hostRouting(env: EnvConfig): HostRouting {
  return {
    agentQueue: env.ORCH_AGENT_TASK_QUEUE ?? `${env.ORCH_TASK_QUEUE}-agents`,
    buildQueue: env.ORCH_BUILD_TASK_QUEUE ?? `${env.ORCH_TASK_QUEUE}-builds`,
    hostStartMs: env.ORCH_HOST_START_TIMEOUT_MS,
  };
}

/** This host's id in the fleet: ORCH_HOST_ID, else the host name and a digest of the data directory. */
export function hostId(config: Pick<AppConfig, 'env' | 'dataDir'>): string {
  if (config.env.ORCH_HOST_ID) return config.env.ORCH_HOST_ID;
  const digest = crypto.createHash('sha256').update(config.dataDir).digest('hex').slice(0, 8);
  const name =
    os
      .hostname()
      .replace(/[^A-Za-z0-9._:-]/g, '-')
      .slice(0, 80) || 'host';
  return `${name}-${digest}`;
}

export const DEFAULT_EVENT_LIMITS = {
  dedupKeysKept: DEFAULT_LIMITS.dedupKeysKept,
  eventsKept: DEFAULT_LIMITS.eventsKept,
};
