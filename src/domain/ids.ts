// Project keys and ticket ids become workflow ids and, later, directory names
// (docs/work-items/<ticket>/, per-item worktrees), so they are held to strict patterns:
// no separators, no dots, nothing that could traverse a path.

/** A project key: lower-case, starts with a letter, e.g. `shop`, `orchestrator`. */
export const PROJECT_KEY_PATTERN = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$/;
/** A ticket id as Plane shows it: upper-case project identifier, dash, sequence number, e.g. `SHOP-42`. */
export const TICKET_ID_PATTERN = /^[A-Z][A-Z0-9]{0,11}-[1-9][0-9]{0,8}$/;

const WORKFLOW_ID_PREFIX = 'work-item';

export class InvalidIdError extends Error {
  override readonly name = 'InvalidIdError';
}

export function assertProjectKey(value: string): string {
  if (!PROJECT_KEY_PATTERN.test(value)) {
    throw new InvalidIdError(
      `invalid project key ${JSON.stringify(value)}: use lower-case letters, digits and inner dashes, starting with a letter (at most 40 characters)`,
    );
  }
  return value;
}

export function assertTicketId(value: string): string {
  if (!TICKET_ID_PATTERN.test(value)) {
    throw new InvalidIdError(
      `invalid ticket id ${JSON.stringify(value)}: expected an upper-case identifier, a dash and a number, like SHOP-42`,
    );
  }
  return value;
}

/** `work-item/<project>/<ticket>`, e.g. `work-item/shop/SHOP-42`. */
export function workItemWorkflowId(project: string, ticket: string): string {
  return `${WORKFLOW_ID_PREFIX}/${assertProjectKey(project)}/${assertTicketId(ticket)}`;
}

export function parseWorkItemWorkflowId(workflowId: string): { project: string; ticket: string } {
  const parts = workflowId.split('/');
  if (parts.length !== 3 || parts[0] !== WORKFLOW_ID_PREFIX) {
    throw new InvalidIdError(`not a work-item workflow id: ${JSON.stringify(workflowId)}`);
  }
  return { project: assertProjectKey(parts[1] ?? ''), ticket: assertTicketId(parts[2] ?? '') };
}

/** The work item's branch: `feature/SHOP-42-apply-coupon-codes` (slug of at most 40 characters). */
export function itemBranch(ticket: string, title: string): string {
  const slug = title
    .normalize('NFKD') // "é" → "e" + a combining accent ...
    .replace(/\p{M}/gu, '') // ... which is dropped here
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug ? `feature/${assertTicketId(ticket)}-${slug}` : `feature/${assertTicketId(ticket)}`;
}
