// The shapes every gate module shares: what a gate check receives, what it may checkpoint, how a
// gate is registered, and how a merge is carried out. Types only, so gate modules and the
// registry depend on this file and never on each other.
import type { AppConfig, ProjectConfig } from '../../config';
import type { GateInput, GateOutcome } from '../../domain';
import type { GiteaClient } from '../../tracker/gitea-client';
import type { GitMirror } from '../git/repository';

export interface GateContext {
  readonly config: AppConfig;
  readonly projectKey: string;
  readonly project: ProjectConfig;
  readonly input: GateInput;
  readonly branch: string;
  readonly mirror: GitMirror;
  readonly repositoryUrl: string;
  /** The Gitea API, when configured (merges of projects with gitea.mergeThroughApi). */
  readonly gitea?: GiteaClient;
  /** Progress that survives a retry of the activity: saved in the heartbeat, read on the next attempt. */
  readonly checkpoints: GateCheckpoints;
}

export interface GateCheckpoints {
  /** What the previous attempt saved last (unvalidated: a gate checks it before trusting it). */
  readonly previous: unknown;
  save(checkpoint: unknown): void;
}

export interface GateDefinition {
  /** Why the gate does not apply to this project, or undefined when it runs. */
  disabledBecause(config: AppConfig, projectKey: string, project: ProjectConfig): string | undefined;
  check(ctx: GateContext): Promise<GateOutcome>;
}

/** Merges the rebased, tested branch into the default branch; says how in the finding. */
export interface Integration {
  /** Set when the host knows the branch is merged already (e.g. its PR is), before any work. */
  alreadyMerged(): Promise<string | undefined>;
  merge(rebased: string): Promise<string>;
}
