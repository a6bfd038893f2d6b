// The operator commands. Each returns what to print; errors are thrown as CliError (usage) or
// whatever the client raised (rendered by describeClientError).
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  STAGES,
  isStage,
  overrideSpec,
  parseOverride,
  priorityKeyOf,
  stageGraphMermaid,
  type OverrideKind,
  type OverrideRequest,
  type OverrideSpec,
} from '../domain';
import { projectForTicket } from '../config';
import {
  STATUS_QUERY_DEADLINE_MS,
  listWorkItems,
  submitWorkItem,
  workItemHandle,
  workItemStatus,
} from '../client/work-items';
import { OVERRIDE_UPDATES } from '../workflows/messages';
import { workspacesCommand } from './workspaces';
import { intakeCommand } from './intake';
import { versionsCommand } from './versions';
import { CliError, type CommandContext, type CommandOutput } from './context';
import { renderFallbackStatus, renderRows, renderState } from './format';
import { runningSteps } from '../client/running-steps';

export const USAGE = `usage: orch <command> [options]

  submit <project> <TICKET> --title T [--description D] [--url U] [--priority P]
                                          start a work item (as a Plane webhook would); P is 1 (first)
                                          to 5 (last) or urgent/high/medium/low/none
  list [--project P] [--stage S] [--blocked | --not-blocked] [--all]  work items, from search attributes
  status <TICKET>                                                     the item's state (the 'state' query)
  approve <TICKET> [--reason R]                                       unblock: accept the blocked step or gate
  retry <TICKET> [--reason R]                                         re-run the blocked stage
  skip-gate <TICKET> <GATE> --reason R                                skip a gate of the current edge
  rollback <TICKET> <STAGE> [--reason R]                              go back to an earlier stage
  cancel <TICKET> [--reason R]                                        cancel the work item
  pause <TICKET> [--reason R]                                         stop the running step and hold the item (retry resumes)
  top-up <TICKET> <USD> [--reason R]                                  raise the item's budget (lifts a budget block)
  workspaces [clean [TICKET]]                                         the agents' checkouts on this machine; clean
                                                                      removes those of closed items (or one item's)
  intake [show ID | retry ID...|--all | discard ID... --reason R]      the API's webhook journal on this machine:
                                                                      backlog and dead letters
  versions [set-current BUILD | ramp BUILD PCT | ramp off]            the workers' builds (Worker Deployment): current,
                                                                      ramp, open items per build; release or roll back
  versions build-id | check-replay [--bundle FILE]                   this release's build ID; replay the open items
                                                                      against its workflow bundle (the release gate)
  stages                                                              the stage graph (Mermaid)

common options: --json (machine-readable output), --by NAME (who asks; default: $USER), --project P
stages: ${STAGES.join(', ')}`;

/** What each override says it did. */
const OVERRIDE_DONE: Record<OverrideKind, (args: OverrideRequest['args']) => string> = {
  approve: () => 'approved',
  retry: () => 'retrying',
  'skip-gate': (a) => `skipped gate ${a.gate} of`,
  rollback: () => 'rolled back',
  cancel: () => 'cancelled',
  'top-up': (a) => `added $${(a.amountUsd ?? 0).toFixed(2)} to the budget of`,
  pause: () => 'paused',
};

const OPTIONS = {
  json: { type: 'boolean' },
  by: { type: 'string' },
  reason: { type: 'string' },
  project: { type: 'string' },
  title: { type: 'string' },
  description: { type: 'string' },
  url: { type: 'string' },
  priority: { type: 'string' },
  stage: { type: 'string' },
  blocked: { type: 'boolean' },
  'not-blocked': { type: 'boolean' },
  all: { type: 'boolean' },
  bundle: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

type Parsed = ReturnType<typeof parse>;

function positional(parsed: Parsed, index: number, name: string): string {
  const value = parsed.positionals[index];
  if (!value) throw new CliError(`missing <${name}>\n\n${USAGE}`);
  return value;
}

function requester(parsed: Parsed, env: NodeJS.ProcessEnv): string {
  return parsed.values.by ?? env.ORCH_OPERATOR ?? env.USER ?? os.userInfo().username;
}

export async function runCommand(argv: readonly string[], ctx: CommandContext): Promise<CommandOutput> {
  const parsed = parse(argv);
  const command = parsed.positionals[0];
  if (parsed.values.help) return { json: { usage: USAGE }, text: USAGE };
  // A bare `orch` is a usage error: scripts must not mistake it for a command that worked.
  if (!command) throw new CliError(`no command given\n\n${USAGE}`);
  const args = { ...parsed, positionals: parsed.positionals.slice(1) };
  const by = requester(parsed, ctx.env);
  const reason = parsed.values.reason;
  /** The ticket, checked before anything talks to Temporal, and the project whose prefix it has. */
  const ticketAndProject = (): { ticket: string; project: string } => {
    const ticket = positional(args, 0, 'TICKET');
    const fromPrefix = projectForTicket(ctx.config, ticket);
    const project = parsed.values.project ?? fromPrefix;
    if (project !== fromPrefix) throw new CliError(`${ticket} belongs to project ${fromPrefix}, not ${project}`);
    return { ticket, project };
  };
  /** Every override of the override table: the ticket, its words, --reason; sent as its update. */
  const override = async (spec: OverrideSpec): Promise<CommandOutput> => {
    const { ticket, project } = ticketAndProject();
    const words = args.positionals.slice(1);
    if (words.length < spec.positional.length)
      throw new CliError(`${spec.kind} needs ${spec.positional.map((name) => `<${name}>`).join(' ')}\n\n${USAGE}`);
    if (words.length > spec.positional.length)
      throw new CliError(
        `${spec.kind}: unexpected ${JSON.stringify(words[spec.positional.length])} (a reason goes in --reason)`,
      );
    if (spec.reasonRequired && !reason) throw new CliError(`${spec.kind} needs --reason`);
    const parsedOverride = parseOverride(spec, words, reason);
    if (!parsedOverride.ok) throw new CliError(parsedOverride.error);
    const update = OVERRIDE_UPDATES[spec.kind] as typeof OVERRIDE_UPDATES.approve;
    const result = await workItemHandle(await ctx.client(), project, ticket).executeUpdate(update, {
      args: [{ ...parsedOverride.request.args, by }],
    });
    return {
      json: result,
      text: `${OVERRIDE_DONE[spec.kind](parsedOverride.request.args)} ${result.ticket}: now ${result.stage} (${result.status})`,
    };
  };
  const overrideVerb = overrideSpec(command);
  if (overrideVerb) return override(overrideVerb);

  switch (command) {
    case 'submit': {
      const project = positional(args, 0, 'project');
      const ticket = positional(args, 1, 'TICKET');
      const title = parsed.values.title;
      if (!title) throw new CliError('submit needs --title');
      const owner = projectForTicket(ctx.config, ticket);
      if (owner !== project) throw new CliError(`${ticket} has the ticket prefix of project ${owner}, not ${project}`);
      const result = await submitWorkItem(
        await ctx.client(),
        ctx.config,
        project,
        {
          ticket,
          title,
          description: parsed.values.description ?? '',
          url: parsed.values.url,
          priority: cliPriority(parsed.values.priority),
        },
        { key: `cli:submit:${ticket}`, source: 'cli', type: 'ticket.created', summary: `submitted by ${by}` },
      );
      return { json: result, text: `submitted ${ticket} as ${result.workflowId}` };
    }
    case 'list': {
      if (parsed.values.blocked && parsed.values['not-blocked'])
        throw new CliError('use either --blocked or --not-blocked');
      const blocked = parsed.values.blocked ? true : parsed.values['not-blocked'] ? false : undefined;
      const { stage, project } = parsed.values;
      if (stage !== undefined && !isStage(stage))
        throw new CliError(`list: unknown stage ${JSON.stringify(stage)} (stages: ${STAGES.join(', ')})`);
      if (project !== undefined && !Object.hasOwn(ctx.config.projects, project))
        throw new CliError(
          `list: unknown project ${JSON.stringify(project)} (configured: ${Object.keys(ctx.config.projects).join(', ')})`,
        );
      const rows = await listWorkItems(await ctx.client(), {
        project: parsed.values.project,
        stage: parsed.values.stage,
        blocked,
        includeClosed: parsed.values.all,
      });
      return { json: rows, text: renderRows(rows) };
    }
    case 'status': {
      const { ticket, project } = ticketAndProject();
      const client = await ctx.client();
      const status = await workItemStatus(client, project, ticket);
      if (status.answeredBy === 'search-attributes') {
        return {
          json: { ...status.row, answeredBy: status.answeredBy },
          text: renderFallbackStatus(status.row, STATUS_QUERY_DEADLINE_MS),
        };
      }
      const { state } = status;
      // The running step is extra: a describe that fails leaves the state to show.
      const running = state.status === 'active' ? await runningSteps(client, project, ticket).catch(() => []) : [];
      return { json: { ...state, running }, text: renderState(state, running) };
    }
    case 'workspaces':
      return workspacesCommand(args.positionals, ctx);
    case 'intake':
      return intakeCommand(args.positionals, { all: parsed.values.all, reason, by }, ctx);
    case 'versions':
      return versionsCommand(args.positionals, { by, bundle: parsed.values.bundle }, ctx);
    case 'stages': {
      const chart = stageGraphMermaid();
      return { json: { stages: STAGES, mermaid: chart }, text: chart };
    }
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

function cliPriority(value: string | undefined): number | undefined {
  try {
    return priorityKeyOf(value);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
