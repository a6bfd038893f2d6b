// The CI gate's rules (ADR-0025): which commit statuses count, and what they say about the
// item's head. Pure: the workflow waits, the machine records, these decide.
import type { GateOutcome } from './gates';
import type { CiStatus, WorkItemState } from './work-item';

/** Statuses kept per item: one per context on the current head, bounded against a noisy CI. */
const MAX_CONTEXTS = 50;
/** A full git commit id: SHA-1 (40 hex digits) or SHA-256 (64). */
export const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** States that let the item go on; `warning` is Gitea's "passed with remarks". */
const GREEN = new Set(['success', 'warning']);
const RED = new Set(['failure', 'error']);

/** A status as the event carries it, or undefined when it is not one (checked: signals are input). */
export function validCiStatus(value: unknown): CiStatus | undefined {
  const s = value as Partial<Record<keyof CiStatus, unknown>> | undefined;
  if (typeof s?.sha !== 'string' || !COMMIT_ID.test(s.sha)) return undefined;
  if (typeof s.context !== 'string' || s.context === '' || typeof s.state !== 'string') return undefined;
  const text = (v: unknown, max: number) => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);
  const description = text(s.description, 1000);
  const targetUrl = text(s.targetUrl, 2000);
  return {
    sha: s.sha,
    context: s.context.slice(0, 200),
    state: s.state.slice(0, 20),
    ...(description ? { description } : {}),
    ...(targetUrl ? { targetUrl } : {}),
  };
}

/** Keeps the latest status per context of the item's head; false when it is for another commit. */
export function recordCiStatus(state: WorkItemState, status: CiStatus): boolean {
  if (!state.headSha || status.sha !== state.headSha) return false;
  const others = (state.ciStatuses ?? []).filter((s) => s.context !== status.context);
  state.ciStatuses = [...others, status].slice(-MAX_CONTEXTS);
  return true;
}

/** A new head: what CI said about the old one no longer counts. */
export function recordHead(state: WorkItemState, head: string | undefined): void {
  if (!head || head === state.headSha) return;
  state.headSha = head;
  state.ciStatuses = [];
  // An approval was of the code as it was: a new push needs a new one.
  state.approvedBy = [];
}

/**
 * The gate's verdict once it can be given: FAIL as soon as a required context failed (its
 * description and link verbatim), PASS when all are green, undefined while any is pending or
 * has not reported.
 */
export function ciVerdict(state: WorkItemState, required: readonly string[]): GateOutcome | undefined {
  const latest = new Map((state.ciStatuses ?? []).map((s) => [s.context, s]));
  const failed = required.map((c) => latest.get(c)).filter((s): s is CiStatus => !!s && RED.has(s.state));
  if (failed.length > 0)
    return {
      gate: 'ci',
      verdict: 'FAIL',
      findings: failed.map(
        (s) =>
          `CI context ${JSON.stringify(s.context)} reported ${s.state} on ${s.sha}` +
          `${s.description ? `: ${s.description}` : ''}${s.targetUrl ? ` (${s.targetUrl})` : ''}`,
      ),
    };
  if (required.every((c) => GREEN.has(latest.get(c)?.state ?? '')))
    return { gate: 'ci', verdict: 'PASS', findings: [] };
  return undefined;
}

/** The required contexts not green yet on the head, with what they last said. */
export function ciMissing(state: WorkItemState, required: readonly string[]): string[] {
  const latest = new Map((state.ciStatuses ?? []).map((s) => [s.context, s]));
  return required
    .filter((c) => !GREEN.has(latest.get(c)?.state ?? ''))
    .map((c) => `${c} (${latest.get(c)?.state ?? 'no status'})`);
}
