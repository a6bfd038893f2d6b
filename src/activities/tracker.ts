// Keeps the tracker informed: a Plane comment for every stage change and block (idempotent
// through external_id, so a retried activity never comments twice), and the work item moved to
// the project's started / completed state, matched by state group, never by name.
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../config';
import { STAGE_GRAPH, type TrackerNotice, type TrackerSyncInput, type TrackerSyncResult } from '../domain';
import { TrackerError } from '../tracker/http';
import type { PlaneClient } from '../tracker/plane-client';
import { FAILURE_NEEDS_PERSON } from '../workflows/messages';

export interface TrackerActivityDeps {
  readonly config: AppConfig;
  /** Absent when the Plane API is not configured for this instance. */
  readonly plane?: PlaneClient;
}

const GROUP_FOR: Partial<Record<TrackerNotice['kind'], string>> = { done: 'completed' };

export function createTrackerActivities(deps: TrackerActivityDeps) {
  return {
    async syncTracker(input: TrackerSyncInput): Promise<TrackerSyncResult> {
      const project = deps.config.projects[input.project];
      if (!project?.plane) return { summary: `project ${input.project} has no Plane project configured; nothing to tell` };
      if (!deps.plane) return { summary: 'the Plane API is not configured (ORCH_PLANE_API_URL, ORCH_PLANE_API_KEY, ORCH_PLANE_WORKSPACE); nothing told' };
      try {
        const item = await deps.plane.workItemByIdentifier(input.ticket);
        const done: string[] = [];
        const result = await deps.plane.comment(project.plane.projectId, item.id, renderComment(input), `orchestrator:${input.ticket}:${input.notice.seq}`);
        done.push(result === 'created' ? 'commented' : 'comment already there');
        const group = input.notice.kind === 'stage' && input.notice.previousStage === 'created' ? 'started' : GROUP_FOR[input.notice.kind];
        if (group) {
          const state = (await deps.plane.states(project.plane.projectId)).find((s) => s.group === group);
          if (!state) throw new TrackerError(`Plane project ${project.plane.projectId} has no state in group ${group}`, 404, true);
          await deps.plane.setState(project.plane.projectId, item.id, state.id);
          done.push(`moved to ${state.name} (${group})`);
        }
        return { summary: done.join('; ') };
      } catch (err) {
        if (err instanceof TrackerError && err.personMustFix) {
          throw ApplicationFailure.create({ type: FAILURE_NEEDS_PERSON, nonRetryable: true, message: `tracker: ${err.message}` });
        }
        throw err;
      }
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderComment(input: TrackerSyncInput): string {
  const n = input.notice;
  const stage = escapeHtml(n.stage);
  switch (n.kind) {
    case 'stage':
      return `<p><strong>${escapeHtml(input.ticket)}</strong> moved from <code>${escapeHtml(n.previousStage ?? '?')}</code> to <code>${stage}</code>: ${escapeHtml(STAGE_GRAPH[n.stage].summary)}.${n.reason ? `</p><p>${escapeHtml(n.reason)}` : ''}</p>`;
    case 'blocked':
      return [
        `<p><strong>${escapeHtml(input.ticket)} is blocked</strong> at <code>${stage}</code>: ${escapeHtml(n.reason ?? 'no reason given')}</p>`,
        '<p>To unblock, an operator comments one of:</p><ul>',
        '<li><code>/approve [reason]</code>: accept the blocked step or gate and go on</li>',
        '<li><code>/retry [reason]</code>: run the stage again</li>',
        n.gate ? `<li><code>/skip-gate ${escapeHtml(n.gate)} &lt;reason&gt;</code>: skip this gate</li>` : '',
        '<li><code>/rollback &lt;stage&gt; [reason]</code>: go back to an earlier stage</li>',
        '<li><code>/cancel [reason]</code>: stop the work item</li>',
        `</ul><p>or runs <code>orch approve ${escapeHtml(input.ticket)}</code> (see <code>orch --help</code>).</p>`,
      ].join('');
    case 'done':
      return `<p><strong>${escapeHtml(input.ticket)}</strong> is done: deployed and observed.</p>`;
    case 'cancelled':
      return `<p><strong>${escapeHtml(input.ticket)}</strong> was cancelled${n.reason ? `: ${escapeHtml(n.reason)}` : ''}.</p>`;
  }
}
