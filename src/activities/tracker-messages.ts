// The text the trackers get: Plane comments (HTML) and Gitea findings (Markdown).
import { STAGE_GRAPH, type TrackerSyncInput } from '../domain';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderComment(input: TrackerSyncInput): string {
  const n = input.notice;
  const ticket = escapeHtml(input.ticket);
  const stage = escapeHtml(n.stage);
  switch (n.kind) {
    case 'stage':
      return `<p><strong>${ticket}</strong> moved from <code>${escapeHtml(n.previousStage ?? '?')}</code> to <code>${stage}</code>: ${escapeHtml(STAGE_GRAPH[n.stage].summary)}.${n.reason ? `</p><p>${escapeHtml(n.reason)}` : ''}</p>`;
    case 'blocked':
      return [
        `<p><strong>${ticket} is blocked</strong> at <code>${stage}</code>: ${escapeHtml(n.reason ?? 'no reason given')}</p>`,
        '<p>To unblock, an operator comments one of:</p><ul>',
        '<li><code>/approve [reason]</code>: accept the blocked step or gate and go on</li>',
        '<li><code>/retry [reason]</code>: run the stage again</li>',
        n.gate ? `<li><code>/skip-gate ${escapeHtml(n.gate)} &lt;reason&gt;</code>: skip this gate</li>` : '',
        '<li><code>/rollback &lt;stage&gt; [reason]</code>: go back to an earlier stage</li>',
        '<li><code>/cancel [reason]</code>: stop the work item</li>',
        `</ul><p>or runs <code>orch approve ${ticket}</code> (see <code>orch --help</code>).</p>`,
      ].join('');
    case 'done':
      return `<p><strong>${ticket}</strong> is done: deployed and observed.</p>`;
    case 'cancelled':
      return `<p><strong>${ticket}</strong> was cancelled${n.reason ? `: ${escapeHtml(n.reason)}` : ''}.</p>`;
    case 'gate':
      return `<p><strong>${ticket}</strong>: gate <code>${escapeHtml(n.gate ?? '?')}</code> at <code>${stage}</code>: ${escapeHtml(n.verdict ?? '?')}</p>`;
  }
}

/** A failed gate's findings for the pull request, verbatim, each in a code span-safe list item. */
export function renderFindings(input: TrackerSyncInput): string {
  const n = input.notice;
  const lines = (n.findings ?? []).map((f) => `- ${f.replace(/\n/g, ' ')}`);
  return [`**${n.verdict}** from gate \`${n.gate}\` at stage \`${n.stage}\` (${input.ticket}):`, '', ...lines].join(
    '\n',
  );
}

/**
 * The pull request's description: the ticket, where its artifacts are, and where the item is now.
 * Rewritten at each stage change, so it says so.
 */
export function renderPullRequestBody(input: TrackerSyncInput, artifactsUrl: string): string {
  const n = input.notice;
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').slice(0, 500);
  const status =
    n.kind === 'blocked'
      ? `blocked: ${oneLine(n.reason ?? 'no reason given')}`
      : n.kind === 'done'
        ? 'done: deployed and observed'
        : n.kind === 'cancelled'
          ? `cancelled${n.reason ? `: ${oneLine(n.reason)}` : ''}`
          : 'in progress';
  return [
    `Work item **${input.ticket}**: ${oneLine(input.title)}`,
    '',
    `- Stage: \`${n.stage}\` (${STAGE_GRAPH[n.stage].summary})`,
    `- Status: ${status}`,
    `- Artifacts: [docs/work-items/${input.ticket}](${artifactsUrl})`,
    '',
    '_Kept up to date by the orchestrator at every stage change; edits here are overwritten._',
  ].join('\n');
}
