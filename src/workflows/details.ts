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
  if (state.pullRequest) {
    const { number, url } = state.pullRequest;
    lines.push(url ? `Pull request: [#${number}](${url})` : `Pull request: #${number}`);
  }
  if (state.headSha) {
    // What CI said about the head so far (pending statuses show here and nowhere else).
    const statuses = (state.ciStatuses ?? []).map((s) => `${s.context} ${s.state}`).join(', ');
    lines.push(`Head: ${state.headSha.slice(0, 12)}${statuses ? ` — CI: ${statuses}` : ''}`);
  }
  lines.push(`Review returns: ${state.reviewRejections}, gate retries: ${state.gateRetries}`);
  lines.push(`Cost: $${state.costUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}`);
  return lines.join('\n\n');
}
