// Client-side operations on work items, shared by the API and the CLI.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import {
  SA_ATTEMPT,
  SA_BLOCKED,
  SA_COST,
  SA_TICKET,
  SA_PROJECT,
  SA_STAGE,
  STAGES,
  assertProjectKey,
  assertTicketId,
  isStage,
  workItemWorkflowId,
  type ItemPriority,
  type WorkItemEvent,
  type WorkItemInput,
  type WorkItemState,
} from '../domain';
import { DEFAULT_EVENT_LIMITS, hostRouting, projectConfig, workItemTimeouts, type AppConfig } from '../config';
import { eventSignal, stateQuery } from '../workflows/messages';

export interface TicketInfo {
  readonly ticket: string;
  readonly title: string;
  readonly description: string;
  readonly url?: string;
  /** 1 (first) to 5 (last), from the ticket's priority or `orch submit --priority`; absent: the default. */
  readonly priority?: number;
}

export function buildWorkItemInput(config: AppConfig, project: string, info: TicketInfo): WorkItemInput {
  const p = projectConfig(config, project);
  return {
    project,
    ticket: info.ticket,
    title: info.title,
    description: info.description,
    url: info.url,
    budgetUsd: p.budgetUsd,
    limits: { ...p.limits, ...DEFAULT_EVENT_LIMITS },
    timeouts: workItemTimeouts(config.env),
    // Without a tracker the item's notices need no activity at all.
    trackers: Boolean(p.plane || p.gitea),
    hosts: hostRouting(config.env),
    priority: itemPriority(project, p.fairnessWeight, info.priority),
    // Only projects that name CI contexts wait for them (ADR-0025).
    ...(p.ci.requiredContexts.length > 0
      ? { ci: { requiredContexts: p.ci.requiredContexts, timeoutMs: p.ci.timeoutMs } }
      : {}),
    ...(p.review.requireHumanApproval ? { requireHumanApproval: true } : {}),
  };
}

/** Temporal's priority for the item: its priority key, and its project as the fairness key. */
export function itemPriority(project: string, fairnessWeight: number, priorityKey?: number): ItemPriority {
  return { fairnessKey: project, fairnessWeight, ...(priorityKey !== undefined ? { priorityKey } : {}) };
}

/**
 * Starts the item's workflow if it is not running and delivers the event to it, in one call:
 * a duplicate webhook for an existing item only adds a (deduplicated) event.
 */
export async function submitWorkItem(
  client: Client,
  config: AppConfig,
  project: string,
  info: TicketInfo,
  event: WorkItemEvent,
): Promise<{ workflowId: string; runId: string }> {
  assertProjectKey(project);
  assertTicketId(info.ticket);
  const workflowId = workItemWorkflowId(project, info.ticket);
  const input = buildWorkItemInput(config, project, info);
  const handle = await client.workflow.signalWithStart('workItem', {
    workflowId,
    taskQueue: config.env.ORCH_TASK_QUEUE,
    args: [input],
    signal: eventSignal,
    signalArgs: [event],
    // Workflow tasks get the item's place too (activities take their own: those on the pool queues).
    priority: input.priority,
    staticSummary: `${info.ticket}: ${info.title} (${project})`,
    staticDetails: info.url ? `Ticket: ${info.url}` : undefined,
  });
  return { workflowId, runId: handle.signaledRunId };
}

export function workItemHandle(client: Client, project: string, ticket: string) {
  return client.workflow.getHandle(workItemWorkflowId(project, ticket));
}

export async function workItemState(client: Client, project: string, ticket: string): Promise<WorkItemState> {
  return workItemHandle(client, project, ticket).query(stateQuery);
}

export interface ListFilter {
  readonly project?: string;
  readonly stage?: string;
  readonly blocked?: boolean;
  readonly includeClosed?: boolean;
}

/** A visibility query over the work items' search attributes. */
export function listQuery(filter: ListFilter): string {
  const clauses = [`WorkflowType = 'workItem'`];
  if (filter.project !== undefined) clauses.push(`${SA_PROJECT.name} = '${assertProjectKey(filter.project)}'`);
  if (filter.stage !== undefined) {
    if (!isStage(filter.stage))
      throw new Error(`unknown stage ${JSON.stringify(filter.stage)} (stages: ${STAGES.join(', ')})`);
    clauses.push(`${SA_STAGE.name} = '${filter.stage}'`);
  }
  if (filter.blocked !== undefined) clauses.push(`${SA_BLOCKED.name} = ${filter.blocked}`);
  if (!filter.includeClosed) clauses.push(`ExecutionStatus = 'Running'`);
  return clauses.join(' AND ');
}

export interface WorkItemRow {
  readonly workflowId: string;
  readonly project?: string;
  readonly ticket?: string;
  readonly stage?: string;
  readonly blocked?: boolean;
  readonly attempt?: number;
  readonly costUsd?: number;
  readonly status: string;
  readonly startTime: string;
}

export async function listWorkItems(client: Client, filter: ListFilter): Promise<WorkItemRow[]> {
  const rows: WorkItemRow[] = [];
  for await (const info of client.workflow.list({ query: listQuery(filter) })) rows.push(toRow(info));
  return rows;
}

/** A description carries the same fields a list entry does (its raw protos differ). */
function toRow(
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes' | 'status' | 'startTime'>,
): WorkItemRow {
  const sa = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    project: sa.get(SA_PROJECT),
    ticket: sa.get(SA_TICKET),
    stage: sa.get(SA_STAGE),
    blocked: sa.get(SA_BLOCKED),
    attempt: sa.get(SA_ATTEMPT),
    costUsd: sa.get(SA_COST),
    status: info.status.name,
    startTime: info.startTime.toISOString(),
  };
}

/** How long `orch status` waits for the state query: a query needs a worker to answer it. */
export const STATUS_QUERY_DEADLINE_MS = 5000;

export type WorkItemStatus =
  | { readonly answeredBy: 'worker'; readonly state: WorkItemState }
  /** No worker answered in time: what the server knows without one (the search attributes). */
  | { readonly answeredBy: 'search-attributes'; readonly row: WorkItemRow };

export async function workItemStatus(
  client: Client,
  project: string,
  ticket: string,
  deadlineMs = STATUS_QUERY_DEADLINE_MS,
): Promise<WorkItemStatus> {
  const handle = workItemHandle(client, project, ticket);
  try {
    return {
      answeredBy: 'worker',
      state: await client.withDeadline(Date.now() + deadlineMs, () => handle.query(stateQuery)),
    };
  } catch (err) {
    // Not found is an answer; any other failure (no worker in time, no poller, a query the
    // workflow could not run) leaves what the server itself knows.
    if (err instanceof WorkflowNotFoundError) throw err;
    try {
      return { answeredBy: 'search-attributes', row: toRow(await handle.describe()) };
    } catch {
      throw err;
    }
  }
}
