// The sandbox a project command gets when it runs code the agents wrote (the merge gate's tests):
// the agent sandbox with the project's settings, unless ORCH_AGENT_SANDBOX=off. Fails closed like
// an agent run: no usable sandbox blocks the item with what to install.
import { Context } from '@temporalio/activity';
import type { GateContext } from './gates/types';
import { needsPerson } from './failures';
import { sandboxDenied } from './metrics';
import type { CommandSandbox } from './project-command';
import { assertSandboxAvailable, SandboxUnavailableError } from '../sandbox/sandbox';

export async function commandSandbox(
  ctx: Pick<GateContext, 'config' | 'project' | 'projectKey' | 'input'>,
): Promise<CommandSandbox | undefined> {
  const { env } = ctx.config;
  if (env.ORCH_AGENT_SANDBOX === 'off') return undefined;
  try {
    await assertSandboxAvailable(env.ORCH_BWRAP_BIN);
  } catch (err) {
    if (err instanceof SandboxUnavailableError) throw needsPerson(err.message);
    throw err;
  }
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
