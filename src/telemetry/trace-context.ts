// A trace context written down and read back: the API journals each delivery's context with it
// (W3C traceparent/tracestate as JSON), so the hand-over to Temporal, which may happen after a
// restart, continues the delivery's trace instead of starting a new one.
import { ROOT_CONTEXT, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';

/** The span's context as a string to store; undefined when there is nothing to carry (no tracing). */
export function serializeTraceContext(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent ? JSON.stringify(carrier) : undefined;
}

/** The stored context to run under; the root context for none or one that does not parse. */
export function storedTraceContext(stored: string | null | undefined): Context {
  if (!stored) return ROOT_CONTEXT;
  try {
    const carrier = JSON.parse(stored) as Record<string, string>;
    return propagation.extract(ROOT_CONTEXT, carrier);
  } catch {
    return ROOT_CONTEXT;
  }
}
