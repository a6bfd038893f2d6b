// The SDK's gRPC retry waits out its backoff on a timer, then opens the next attempt on the
// channel. When the connection was closed meanwhile (an orderly shutdown while Temporal is
// away), opening it throws "Channel has been shut down" from that timer: an uncaught exception
// that ends the process, and the call it retried never settles. This interceptor sits below the
// retry: a call opened on a closed channel fails at once with CANCELLED (not retried), so the
// caller gets an error and the process goes on shutting down.
import { InterceptingCall, Metadata, status, type Interceptor, type InterceptingListener } from '@grpc/grpc-js';
import {
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionPlugin,
} from '@temporalio/client';

/** What a call below an interceptor is (the package does not export the interface by name). */
type CallBelow = ConstructorParameters<typeof InterceptingCall>[0];

const CLOSED = /channel has been shut down/i;
export const CLOSED_DETAILS = 'the Temporal connection was closed';

/**
 * A call that was never opened: it reports CANCELLED once started, and ignores the rest. A unary
 * call ends as grpc-js ends one that got no answer: an empty message (null) before the status.
 * The SDK's retry interceptor above relies on that message: it passes the last one on when it
 * gives up, and without one it throws from this callback (a call opened on an already closed
 * connection would end the process).
 */
function refusedCall(unaryResponse: boolean): CallBelow {
  return {
    start(_metadata: Metadata, listener?: Partial<InterceptingListener>) {
      setImmediate(() => {
        if (unaryResponse) listener?.onReceiveMessage?.(null);
        listener?.onReceiveStatus?.({ code: status.CANCELLED, details: CLOSED_DETAILS, metadata: new Metadata() });
      });
    },
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    sendMessageWithContext: () => undefined,
    sendMessage: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    getAuthContext: () => null,
  };
}

export const closedChannelGuard: Interceptor = (options, nextCall) => {
  try {
    return new InterceptingCall(nextCall(options));
  } catch (err) {
    if (!(err instanceof Error && CLOSED.test(err.message))) throw err;
    return new InterceptingCall(refusedCall(!options.method_definition.responseStream));
  }
};

/** The interceptors a connection gets when given none: the SDK's retry. */
const sdkDefaultInterceptors = (): Interceptor[] => [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];

/** The SDK's default interceptors (its retry) with the guard below them. */
export function guardedGrpcInterceptors(): Interceptor[] {
  return [...sdkDefaultInterceptors(), closedChannelGuard];
}

/**
 * The guard for connections the orchestrator does not open itself (the test environment's): added
 * below whatever interceptors the connection has, the SDK's retry by default.
 */
export const closedChannelGuardPlugin: ConnectionPlugin = {
  name: 'orchestrator-closed-channel-guard',
  configureConnection: (options) => ({
    ...options,
    interceptors: [...(options.interceptors ?? sdkDefaultInterceptors()), closedChannelGuard],
  }),
};

/** A guarded connection to a plain local address (dev servers, the bench, tests). */
export function connectGuarded(address: string): Promise<Connection> {
  return Connection.connect({ address, interceptors: guardedGrpcInterceptors() });
}
