// Custom search attributes of work-item workflows: the one list that the worker registers in
// every namespace it serves (src/temporal/search-attributes.ts), on any server.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_PROJECT = defineSearchAttributeKey('OrchProject', SearchAttributeType.KEYWORD);
export const SA_STAGE = defineSearchAttributeKey('OrchStage', SearchAttributeType.KEYWORD);
export const SA_TICKET = defineSearchAttributeKey('OrchTicket', SearchAttributeType.KEYWORD);
export const SA_BLOCKED = defineSearchAttributeKey('OrchBlocked', SearchAttributeType.BOOL);
export const SA_ATTEMPT = defineSearchAttributeKey('OrchAttempt', SearchAttributeType.INT);
export const SA_COST = defineSearchAttributeKey('OrchCost', SearchAttributeType.DOUBLE);
/** The commit an agent last pushed to the item's branch: how a CI status finds its item (ADR-0025). */
export const SA_HEAD_SHA = defineSearchAttributeKey('OrchHeadSha', SearchAttributeType.KEYWORD);

export const WORK_ITEM_SEARCH_ATTRIBUTES = [
  SA_PROJECT,
  SA_STAGE,
  SA_TICKET,
  SA_BLOCKED,
  SA_ATTEMPT,
  SA_COST,
  SA_HEAD_SHA,
] as const;

/** The attribute values a work item publishes after every state change. */
export function workItemSearchAttributes(state: {
  project: string;
  ticket: string;
  stage: string;
  status: string;
  attempt: number;
  costUsd: number;
  headSha?: string;
}) {
  return [
    { key: SA_PROJECT, value: state.project },
    { key: SA_TICKET, value: state.ticket },
    { key: SA_STAGE, value: state.stage },
    { key: SA_BLOCKED, value: state.status === 'blocked' },
    { key: SA_ATTEMPT, value: state.attempt },
    { key: SA_COST, value: state.costUsd },
    ...(state.headSha ? [{ key: SA_HEAD_SHA, value: state.headSha }] : []),
  ] as const;
}
