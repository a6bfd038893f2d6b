// The runGate activity: looks the gate up in the registry, syncs the project's mirror and runs
// the check. Disabled gates pass with a note saying why; unbuilt gates say "not implemented".
import path from 'node:path';
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig, ProjectConfig } from '../../config';
import { itemBranch, type GateInput, type GateOutcome } from '../../domain';
import { FAILURE_NEEDS_PERSON, FAILURE_NOT_IMPLEMENTED } from '../../workflows/messages';
import { GitError, GitMirror } from '../git/repository';
import { GATE_REGISTRY } from './registry';

/** Local repositories in projects.yaml are relative to that file. */
export function repositoryUrl(config: AppConfig, project: ProjectConfig): string {
  const url = project.repository;
  return /^[a-z][a-z0-9+.-]*:\/\/|^[^/]+@[^/]+:/i.test(url) ? url : path.resolve(path.dirname(config.projectsFile), url);
}

export function createGateActivities(config: AppConfig) {
  return {
    async runGate(input: GateInput): Promise<GateOutcome> {
      const definition = GATE_REGISTRY[input.gate];
      if (!definition) {
        throw ApplicationFailure.create({ type: FAILURE_NOT_IMPLEMENTED, nonRetryable: true, message: `not implemented: runGate(${input.gate})` });
      }
      const project = config.projects[input.project];
      if (!project) throw ApplicationFailure.create({ type: FAILURE_NEEDS_PERSON, nonRetryable: true, message: `project ${input.project} is not configured` });
      const disabled = definition.disabledBecause(config, input.project, project);
      if (disabled) return { gate: input.gate, verdict: 'PASS', findings: [`gate ${input.gate} does not apply: ${disabled}`] };

      const url = repositoryUrl(config, project);
      const timer = setInterval(() => heartbeat({ gate: input.gate }), 5000);
      try {
        const mirror = await GitMirror.sync(url, path.join(config.dataDir, 'repos', `${input.project}.git`));
        const branch = input.branch ?? itemBranch(input.ticket, '');
        return await definition.check({ config, projectKey: input.project, project, input, branch, mirror, repositoryUrl: url });
      } catch (err) {
        // An unreachable or unknown repository will not fix itself by retrying.
        if (err instanceof GitError && /clone/.test(err.message)) {
          throw ApplicationFailure.create({ type: FAILURE_NEEDS_PERSON, nonRetryable: true, message: `repository of ${input.project}: ${err.message}` });
        }
        throw err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}
