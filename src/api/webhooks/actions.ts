// What a webhook delivery asks of the pipeline, decided by the source's mapper and carried out
// by dispatch.ts. The API decides no policy: it only translates.
import type { WorkItemEvent } from '../../domain';
import type { TicketInfo } from '../../client/work-items';

export type OverrideName = 'approve' | 'retry' | 'skipGate' | 'rollback' | 'cancel';

export type WebhookAction =
  | { readonly kind: 'start'; readonly project: string; readonly info: TicketInfo; readonly event: Omit<WorkItemEvent, 'key'> }
  | { readonly kind: 'signal'; readonly project: string; readonly ticket: string; readonly event: Omit<WorkItemEvent, 'key'> }
  | { readonly kind: 'override'; readonly project: string; readonly ticket: string; readonly name: OverrideName; readonly args: Record<string, string | undefined> }
  | { readonly kind: 'ignore'; readonly reason: string };

export const ignore = (reason: string): WebhookAction => ({ kind: 'ignore', reason });
