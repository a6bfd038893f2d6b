// Whether sandboxes can be had (agent runs and project commands fail closed the same way), and the
// sandbox a project command gets when it runs code the agents wrote (the merge gate's tests): the
// agent sandbox with the project's settings, unless ORCH_AGENT_SANDBOX=off.
import { Context } from '@temporalio/activity';
import type { AppConfig } from '../config';
import type { GateContext } from './gates/types';
import { needsPerson } from './failures';
import { sandboxDenied } from './metrics';
import type { CommandSandbox } from './project-command';
import { assertSandboxAvailable, SandboxUnavailableError } from '../sandbox/sandbox';

/** Fails closed: where sandboxes are on and none can be set up, the item blocks with what to install. */
export async function requireSandbox(config: AppConfig): Promise<void> {
  if (config.env.ORCH_AGENT_SANDBOX === 'off') return;
  try {
    await assertSandboxAvailable(config.env.ORCH_BWRAP_BIN);
  } catch (err) {
    if (err instanceof SandboxUnavailableError) throw needsPerson(err.message);
    throw err;
  }
}

export async function commandSandbox(
  ctx: Pick<GateContext, 'config' | 'project' | 'projectKey' | 'input'>,
): Promise<CommandSandbox | undefined> {
  const { env } = ctx.config;
  if (env.ORCH_AGENT_SANDBOX === 'off') return undefined;
  await requireSandbox(ctx.config);
  // The context's own logger: refusals are reported from the proxy's socket callbacks.
  const logger = Context.current().log;
  return {
    bwrap: env.ORCH_BWRAP_BIN,
    settings: ctx.project.agents.sandbox,
    name: `cmd-${ctx.input.ticket}-${process.pid}-${Date.now()}`,
    onDenied: (denied) => {
      sandboxDenied.inc({ project: ctx.projectKey });
      logger.warn('command sandbox refused a connection', {
        ticket: ctx.input.ticket,
        destination: denied.destination,
        method: denied.method,
      });
    },
  };
}
