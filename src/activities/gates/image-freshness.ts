// The image-freshness gate (after merge): what will be deployed must be built from the merged
// default branch. The project's build command runs on that commit with ORCH_REVISION set (a
// Docker build passes it on as the org.opencontainers.image.revision label), then the project's
// builtRevision command prints the revision the built image or artifact records. A stale result is
// rebuilt once with ORCH_REBUILD=1 (a build can skip its cache then); still stale is a FAIL naming
// both revisions.
import { Context } from '@temporalio/activity';
import type { GateOutcome } from '../../domain';
import { withBuildCheckout } from '../build-checkout';
import { gitSucceeds } from '../git/repository';
import { runProjectCommand } from '../project-command';
import type { GateContext } from './types';

export async function runImageFreshnessGate(ctx: GateContext): Promise<GateOutcome> {
  const { build, builtRevision } = ctx.project.commands;
  if (!build || !builtRevision)
    return fail([`commands.build and commands.builtRevision must both be set for ${ctx.projectKey}`]);
  const signal = Context.current().cancellationSignal;
  // The build checkout keeps its caches between runs, which is what can go stale.
  return withBuildCheckout(
    ctx.config,
    ctx.projectKey,
    ctx.repositoryUrl,
    { branch: ctx.project.defaultBranch },
    ({ dir, revision }) => buildAndCompare(ctx, { build, builtRevision }, dir, revision, signal),
    signal,
  );
}

async function buildAndCompare(
  ctx: GateContext,
  { build, builtRevision }: { readonly build: string; readonly builtRevision: string },
  dir: string,
  revision: string,
  signal: AbortSignal,
): Promise<GateOutcome> {
  const main = ctx.project.defaultBranch;
  if (!(await gitSucceeds(['-C', dir, 'merge-base', '--is-ancestor', `refs/remotes/origin/${ctx.branch}`, revision]))) {
    return fail([`${main} (${short(revision)}) does not contain ${ctx.branch}: the item is not merged`]);
  }

  const buildOnce = async (rebuild: boolean): Promise<{ built?: string; failure?: string }> => {
    const run = await runProjectCommand(build, dir, {
      signal,
      env: { ORCH_REVISION: revision, ...(rebuild ? { ORCH_REBUILD: '1' } : {}) },
    });
    if (run.exitCode !== 0)
      return {
        failure: `build failed (\`${build}\` exited ${run.timedOut ? 'on timeout' : run.exitCode}); last lines:\n${run.tail}`,
      };
    const read = await runProjectCommand(builtRevision, dir, {
      signal,
      env: { ORCH_REVISION: revision },
      tailLines: 1,
    });
    if (read.exitCode !== 0) return { failure: `\`${builtRevision}\` exited ${read.exitCode}: ${read.tail}` };
    return { built: read.tail.trim() };
  };

  const first = await buildOnce(false);
  if (first.failure) return fail([first.failure]);
  if (first.built === revision) return pass(`built from ${main} at ${short(revision)}`);
  const second = await buildOnce(true);
  if (second.failure) return fail([second.failure]);
  if (second.built === revision)
    return pass(
      `built from ${main} at ${short(revision)} after a rebuild (the first build recorded ${first.built || 'no revision'})`,
    );
  return fail([
    `stale build: the artifact records revision ${second.built || '(none)'} but ${main} is at ${revision}, also after a rebuild without cache; check the build's cache and its revision label`,
  ]);
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

function pass(finding: string): GateOutcome {
  return { gate: 'image-freshness', verdict: 'PASS', findings: [finding] };
}

function fail(findings: string[]): GateOutcome {
  return { gate: 'image-freshness', verdict: 'FAIL', findings };
}
