// How the forwarder carries out one journal entry: map it if it was journalled unresolved, then
// dispatch it to Temporal with the delivery's dedup key as the idempotency key (the request ID of
// its signal, the ID of its update: a replay after a crash or an ambiguous failure has one
// effect), and say what came of it.
import { context } from '@opentelemetry/api';
import { storedTraceContext } from '../../telemetry/trace-context';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { AppConfig } from '../../config';
import { ConfigError } from '../../config';
import { InvalidIdError } from '../../domain';
import type { ForwardEntry, ForwardResult } from '../../intake/forwarder';
import type { IntakeJournal, JournalEntry } from '../../intake/journal';
import { keyedClient, withDeliveryKey } from '../../client/keyed-requests';
import type { WebhookAction } from './actions';
import { dispatch } from './dispatch';
import { mappingFailure } from './mapping';
import type { WebhookSource } from './router';

// gRPC INVALID_ARGUMENT (3): Temporal will refuse the same request every time.
const REFUSED_FOR_GOOD = new Set([3]);
// gRPC RESOURCE_EXHAUSTED (8): rate limited; the server is there, but back off like an outage.
const BUSY = new Set([8]);

export interface ForwardingDeps {
  readonly client: Client;
  readonly config: AppConfig;
  readonly journal: IntakeJournal;
  readonly sources: Readonly<Record<string, WebhookSource>>;
}

export function temporalForwarding(deps: ForwardingDeps): ForwardEntry {
  const client = keyedClient(deps.client);
  return async (entry) => {
    const resolved = await resolve(deps, entry);
    if ('result' in resolved) return resolved.result;
    const { action } = resolved;
    if (action.kind === 'ignore') return { kind: 'done', outcome: 'ignored', reason: action.reason };
    try {
      // Under the delivery's own trace: the Temporal client's interceptor carries it on.
      const result = await context.with(storedTraceContext(entry.traceContext), () =>
        withDeliveryKey(entry.key, () => dispatch(client, deps.config, action, entry.key)),
      );
      if (result.outcome === 'unavailable') return { kind: 'unavailable', reason: result.reason };
      return {
        kind: 'done',
        outcome: result.outcome,
        workflowId: 'workflowId' in result ? result.workflowId : undefined,
        reason: 'reason' in result ? result.reason : undefined,
      };
    } catch (err) {
      return failed(err);
    }
  };
}

/** The entry's action: journalled with it, or mapped now (and recorded) from the delivery. */
async function resolve(
  deps: ForwardingDeps,
  entry: JournalEntry,
): Promise<{ readonly action: WebhookAction } | { readonly result: ForwardResult }> {
  if (entry.action !== null) return { action: JSON.parse(entry.action) as WebhookAction };
  const source = Object.hasOwn(deps.sources, entry.source) ? deps.sources[entry.source] : undefined;
  if (!source) return { result: { kind: 'poison', reason: `webhook source ${entry.source} is not configured` } };
  try {
    const action = await source.map(entry.event, JSON.parse(entry.payload));
    deps.journal.markResolved(entry.id, JSON.stringify(action));
    return { action };
  } catch (err) {
    const failure = mappingFailure(err);
    switch (failure?.kind) {
      case 'unknown-item':
        return { result: { kind: 'done', outcome: 'ignored', reason: failure.reason } };
      case 'tracker-unavailable':
        return { result: { kind: 'deferred', reason: failure.reason } };
      case 'invalid':
      case 'config':
        return { result: { kind: 'poison', reason: failure.reason } };
      default:
        return { result: failed(err) };
    }
  }
}

/** The error and its causes in one line: the gRPC status is in the cause of the SDK's error. */
function describeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 4; e = (e as { cause?: unknown }).cause)
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return parts.join(' ← ');
}

function failed(err: unknown): ForwardResult {
  const reason = describeChain(err);
  if (err instanceof ConfigError || err instanceof InvalidIdError) return { kind: 'poison', reason };
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && REFUSED_FOR_GOOD.has(e.code)) return { kind: 'poison', reason };
    if (isGrpcServiceError(e) && BUSY.has(e.code)) return { kind: 'unavailable', reason };
  }
  return { kind: 'retry', reason };
}
