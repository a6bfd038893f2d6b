// The runGate activity: looks the gate up in the registry, syncs the project's mirror and runs
// the check. Disabled gates pass with a note saying why. A gate this worker does not know (the
// workflow is newer than the worker) is refused with the NotImplemented failure type, which
// blocks the item until the workers are upgraded.
import { Context, heartbeat } from '@temporalio/activity';
import { repositoryUrl, type AppConfig } from '../../config';
import { itemBranch, type GateInput, type GateOutcome } from '../../domain';
import { needsPerson, unknownToThisWorker } from '../failures';
import { GitError, GitMirror, mirrorDir } from '../git/repository';
import { heartbeatEveryMs } from '../heartbeat-interval';
import { TrackerError } from '../../tracker/http';
import type { GiteaClient } from '../../tracker/gitea-client';
import { GATE_REGISTRY } from './registry';

export function createGateActivities(config: AppConfig, deps: { gitea?: GiteaClient } = {}) {
  return {
    async runGate(input: GateInput): Promise<GateOutcome> {
      const definition = GATE_REGISTRY[input.gate];
      if (!definition) {
        throw unknownToThisWorker(`gate ${input.gate}`);
      }
      const project = config.projects[input.project];
      if (!project) throw needsPerson(`project ${input.project} is not configured`);
      const disabled = definition.disabledBecause(config, input.project, project);
      if (disabled)
        return { gate: input.gate, verdict: 'PASS', findings: [`gate ${input.gate} does not apply: ${disabled}`] };

      const url = repositoryUrl(config, project);
      // The heartbeat carries the gate's last checkpoint, so a retry on another worker (after a
      // crash or a deploy of the worker itself) continues where this attempt was.
      let details: GateHeartbeat = { gate: input.gate, ...previousCheckpoint(input.gate) };
      const timer = setInterval(() => heartbeat(details), heartbeatEveryMs(5000));
      const checkpoints = {
        previous: details.checkpoint,
        save(checkpoint: unknown): void {
          details = { gate: input.gate, checkpoint };
          heartbeat(details);
        },
      };
      try {
        const mirror = await GitMirror.sync(url, mirrorDir(config.dataDir, input.project));
        const branch = input.branch ?? itemBranch(input.ticket, '');
        return await definition.check({
          config,
          projectKey: input.project,
          project,
          input,
          branch,
          mirror,
          repositoryUrl: url,
          gitea: deps.gitea,
          checkpoints,
        });
      } catch (err) {
        // An unreachable or unknown repository will not fix itself by retrying.
        if (err instanceof GitError && /clone/.test(err.message)) {
          throw needsPerson(`repository of ${input.project}: ${err.message}`);
        }
        // A rejected token, a missing permission or a wrong repository name on the code host.
        if (err instanceof TrackerError && err.personMustFix) throw needsPerson(err.message);
        throw err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

interface GateHeartbeat {
  readonly gate: string;
  readonly checkpoint?: unknown;
}

/** The checkpoint the previous attempt of this gate heartbeated, if any. */
function previousCheckpoint(gate: string): { checkpoint?: unknown } {
  const details = Context.current().info.heartbeatDetails as Partial<GateHeartbeat> | undefined;
  return details?.gate === gate && details.checkpoint !== undefined ? { checkpoint: details.checkpoint } : {};
}
