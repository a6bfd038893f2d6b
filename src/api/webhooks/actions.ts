// What a webhook delivery asks of the pipeline, decided by the source's mapper and carried out
// by dispatch.ts. The API decides no policy: it only translates.
import type { OverrideRequest, WorkItemEvent } from '../../domain';
import type { TicketInfo } from '../../client/work-items';

export type WebhookAction =
  | {
      readonly kind: 'start';
      readonly project: string;
      readonly info: TicketInfo;
      readonly event: Omit<WorkItemEvent, 'key'>;
    }
  | {
      readonly kind: 'signal';
      readonly project: string;
      readonly ticket: string;
      readonly event: Omit<WorkItemEvent, 'key'>;
    }
  /** An override from the override table, asked for by `by`. */
  | {
      readonly kind: 'override';
      readonly project: string;
      readonly ticket: string;
      readonly request: OverrideRequest;
      readonly by: string;
    }
  | { readonly kind: 'ignore'; readonly reason: string };

export const ignore = (reason: string): WebhookAction => ({ kind: 'ignore', reason });
