import type { WorkItemState } from '../domain';

/** The Markdown shown as the workflow's current details in the Web UI. */
export function renderDetails(state: WorkItemState): string {
  const lines = [
    `**${state.ticket}** ${state.title}`,
    `Stage: **${state.stage}** (visit ${state.attempt}) — ${state.status}`,
  ];
  if (state.blocked) lines.push(`Blocked: ${state.blocked.reason}`);
  const last = state.overrides.at(-1);
  if (last)
    lines.push(`Last override: ${last.kind} by ${last.by}${last.reason ? ` (${last.reason})` : ''} at ${last.stage}`);
  if (state.findings.length > 0) lines.push(`Findings: ${state.findings.length}`);
  lines.push(`Review returns: ${state.reviewRejections}, gate retries: ${state.gateRetries}`);
  lines.push(`Cost: $${state.costUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}`);
  return lines.join('\n\n');
}
