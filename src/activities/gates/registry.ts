// The gate registry: each gate is one check plus its rollout rule. A new gate is one module and
// one entry here. A gate without an entry is one this worker does not know (runGate refuses it).
import type { GateName } from '../../domain';
import { checkArtifacts } from './artifacts';
import { runImageFreshnessGate } from './image-freshness';
import { runMergeGate } from './merge';
import { runObservationGate } from './observation';
import { runSecurityGate } from './security';
import type { GateDefinition } from './types';

export const GATE_REGISTRY: Partial<Record<GateName, GateDefinition>> = {
  artifacts: {
    disabledBecause: () => undefined,
    check: (ctx) =>
      checkArtifacts({
        mirror: ctx.mirror,
        ticket: ctx.input.ticket,
        stage: ctx.input.stage,
        branch: ctx.branch,
        defaultBranch: ctx.project.defaultBranch,
      }),
  },
  security: {
    disabledBecause(config, projectKey, project) {
      if (!config.env.ORCH_SECURITY_GATE_ENABLED) return 'ORCH_SECURITY_GATE_ENABLED is false';
      if (!project.gates.security) return `gates.security is false for ${projectKey}`;
      const scope = config.env.ORCH_SECURITY_GATE_SCOPE;
      if (scope.length === 0 && !project.selfHosting)
        return 'ORCH_SECURITY_GATE_SCOPE is empty, which covers only the self-hosting project';
      if (scope.length > 0 && !scope.includes(projectKey)) return `${projectKey} is not in ORCH_SECURITY_GATE_SCOPE`;
      return undefined;
    },
    check: (ctx) => runSecurityGate(ctx),
  },
  merge: {
    disabledBecause: (_config, projectKey, project) =>
      project.gates.merge ? undefined : `gates.merge is false for ${projectKey}`,
    check: (ctx) => runMergeGate(ctx),
  },
  'image-freshness': {
    disabledBecause(_config, projectKey, project) {
      if (!project.gates.imageFreshness) return `gates.imageFreshness is false for ${projectKey}`;
      if (!project.commands.build) return `no build command is configured for ${projectKey} (commands.build)`;
      return undefined;
    },
    check: (ctx) => runImageFreshnessGate(ctx),
  },
  observation: {
    disabledBecause: (_config, projectKey, project) =>
      project.health.productionUrl
        ? undefined
        : `no production health URL is configured for ${projectKey} (health.productionUrl)`,
    check: (ctx) => runObservationGate(ctx),
  },
};
