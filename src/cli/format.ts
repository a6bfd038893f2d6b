// Human-readable renderings for the CLI (the --json flag prints the raw objects instead).
import type { WorkItemState } from '../domain';
import type { WorkItemRow } from '../client/work-items';
import type { RunningStep } from '../client/running-steps';

export function renderState(state: WorkItemState, running: readonly RunningStep[] = [], now = Date.now()): string {
  const lines = [
    `${state.ticket}  ${state.title}`,
    `  project   ${state.project}`,
    `  stage     ${state.stage} (visit ${state.attempt})`,
    `  status    ${state.status}${state.blocked ? `: ${state.blocked.reason}` : ''}`,
    `  reviews   ${state.reviewRejections} returned, gate retries ${state.gateRetries}`,
    `  cost      $${state.costUsd.toFixed(2)} of $${state.budgetUsd.toFixed(2)}`,
  ];
  if (state.pullRequest)
    lines.push(`  PR        #${state.pullRequest.number}${state.pullRequest.url ? `  ${state.pullRequest.url}` : ''}`);
  if (state.headSha) {
    const statuses = (state.ciStatuses ?? []).map((s) => `${s.context} ${s.state}`).join(', ');
    lines.push(`  head      ${state.headSha}${statuses ? `  CI: ${statuses}` : ''}`);
  }
  for (const step of running) lines.push(...renderRunning(step, now));
  if (state.findings.length > 0) lines.push('  findings', ...state.findings.map((f) => `    - ${f}`));
  lines.push(
    '  history',
    ...state.history.map((v) => `    ${v.enteredAt}  ${v.stage}${v.outcome ? `  -> ${v.outcome}` : ''}`),
  );
  if (state.lostRuns && state.lostRuns.length > 0) {
    lines.push(
      '  lost runs',
      ...state.lostRuns.map(
        (l) => `    ${l.at}  ${l.work} at ${l.stage} on ${l.host}: ${l.reason}; run again elsewhere`,
      ),
    );
  }
  if (state.overrides.length > 0) {
    lines.push(
      '  overrides',
      ...state.overrides.map(
        (o) => `    ${o.at}  ${o.kind} by ${o.by} at ${o.stage}${o.reason ? `: ${o.reason}` : ''}`,
      ),
    );
  }
  return lines.join('\n');
}

export function renderRows(rows: readonly WorkItemRow[]): string {
  if (rows.length === 0) return 'no work items match';
  const table = [['TICKET', 'PROJECT', 'STAGE', 'BLOCKED', 'ATTEMPT', 'COST', 'STATUS']];
  for (const r of rows) {
    table.push([
      r.ticket ?? '?',
      r.project ?? '?',
      r.stage ?? '?',
      r.blocked ? 'yes' : 'no',
      String(r.attempt ?? ''),
      (r.costUsd ?? 0).toFixed(2),
      r.status,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function renderRunning(step: RunningStep, now: number): string[] {
  const d = step.details ?? {};
  const parts = [`${step.activity} (attempt ${step.attempt})`];
  if (typeof d.phase === 'string') parts.push(d.phase);
  if (typeof d.host === 'string') parts.push(`on ${d.host}`);
  const lines = [`  running   ${parts.join(', ')}`];
  if (typeof d.lastEvent === 'string') {
    const at = typeof d.lastEventAt === 'string' ? Date.parse(d.lastEventAt) : Number.NaN;
    lines.push(
      `  agent     last event: ${d.lastEvent}${Number.isFinite(at) ? ` (${Math.max(0, Math.round((now - at) / 1000))} s ago)` : ''}`,
    );
  }
  if (typeof d.turns === 'number') {
    lines.push(
      `  progress  ${d.turns} turns, ${String(d.toolUses ?? 0)} tool calls; stalls ${String(d.stalls ?? 0)}, same call ${String(d.repeats ?? 0)}x in a row, ${String(d.turnsWithoutChange ?? 0)} turns without a file change`,
    );
  }
  if (d.sandbox === 'off')
    lines.push(
      "  WARNING   this agent runs UNSANDBOXED (ORCH_AGENT_SANDBOX=off on its worker): it can read the worker's secrets",
    );
  else if (d.sandbox === 'bwrap') lines.push('  sandbox   bwrap');
  return lines;
}

/** `orch status` when no worker answered the state query: what the search attributes say. */
export function renderFallbackStatus(row: WorkItemRow, waitedMs: number): string {
  return [
    `${row.ticket ?? row.workflowId}  (no worker answered the state query within ${Math.round(waitedMs / 1000)} s: from the search attributes)`,
    `  project   ${row.project ?? '?'}`,
    `  stage     ${row.stage ?? '?'} (visit ${row.attempt ?? '?'})`,
    `  status    ${row.status}${row.blocked ? ', blocked' : ''}`,
    `  cost      $${(row.costUsd ?? 0).toFixed(2)}`,
    '  Start a worker (npm start, or the worker container) for the full state.',
  ].join('\n');
}
