// Temporal applies a signal (and a signal-with-start) once per request ID, but the SDK draws a
// fresh ID for every call. A delivery forwarded again after an ambiguous failure (the deadline
// passed after the server had taken it, the API was killed before it recorded the answer) would
// then reach the work item's history twice. Calls made inside `withDeliveryKey` carry an ID
// derived from the delivery's key instead, so the server itself drops the repeat; the workflow's
// own check of event keys stays as the second line (the server's is per run, and best effort).
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Client, type ConnectionLike } from '@temporalio/client';

const keyScope = new AsyncLocalStorage<string>();
const KEYED_CALLS = new Set(['signalWorkflowExecution', 'signalWithStartWorkflowExecution']);

/** The request ID for a delivery key: the same key, the same ID (UUID-shaped, as the SDK's). */
export function requestIdFor(key: string): string {
  const h = createHash('sha256').update(`orch-delivery:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Runs `fn` so that the signals it sends through a keyed client carry the key's request ID. */
export function withDeliveryKey<T>(key: string, fn: () => Promise<T>): Promise<T> {
  return keyScope.run(requestIdFor(key), fn);
}

/** The same service with the signal calls taking the request ID of the delivery in scope. */
function keyedService(service: Client['workflowService']): Client['workflowService'] {
  return new Proxy(service, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !KEYED_CALLS.has(prop) || typeof value !== 'function') return value;
      return (request: { requestId?: string | null }) => {
        const requestId = keyScope.getStore();
        return (value as (r: unknown) => unknown).call(target, requestId ? { ...request, requestId } : request);
      };
    },
  });
}

/**
 * A client like `client` (its connection, namespace, data converter and interceptors) whose
 * signals take their request ID from `withDeliveryKey`. Outside that scope it behaves as `client`.
 */
export function keyedClient(client: Client): Client {
  const connection = client.connection;
  const keyed: ConnectionLike = Object.create(connection, {
    workflowService: { value: keyedService(connection.workflowService) },
  }) as ConnectionLike;
  return new Client({
    connection: keyed,
    namespace: client.options.namespace,
    identity: client.options.identity,
    dataConverter: client.options.loadedDataConverter,
    interceptors: client.options.interceptors,
  });
}
