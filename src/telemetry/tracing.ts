// OpenTelemetry traces of the orchestrator: a webhook delivery in the API, its hand-over to
// Temporal, the work item's workflow and its activities form one trace (the Temporal SDK's
// OpenTelemetry interceptors carry the context in Temporal headers; the intake journal carries it
// across the API's queue). Exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, with the standard OTEL_* variables; otherwise
// nothing is exported, no tracer is registered and spans cost nothing (they are non-recording
// and carry no context onward).
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
// The client part alone: the package's index also loads its workflow-side code.
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';

export interface Tracing {
  /** Whether spans leave the process. */
  readonly exporting: boolean;
  readonly resource: Resource;
  /** Where the worker's workflow spans (sent out of the sandbox by a sink) are processed. */
  readonly spanProcessor: SpanProcessor;
  /** Flushes what is buffered and stops exporting (on shutdown). */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Whether these settings ask for traces to be exported. */
export function tracesRequested(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

let installed: Tracing | undefined;

/**
 * Registers the process's tracer provider once (the API, the worker, npm start); `component`
 * names the service unless OTEL_SERVICE_NAME does.
 */
export function setupTracing(component: string, env: Env = process.env): Tracing {
  if (installed) return installed;
  const resource = new Resource({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || `orchestrator-${component}`,
    [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0',
  });
  const exporting = tracesRequested(env);
  const spanProcessor: SpanProcessor = exporting
    ? new BatchSpanProcessor(new OTLPTraceExporter())
    : new NoopSpanProcessor();
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The W3C trace context propagator and an AsyncLocalStorage context manager, only when spans
  // go somewhere: otherwise every delivery and activity would pay for spans nobody receives
  // (a quarter of the API's CPU per delivery), and the API's answer would not be any faster.
  if (exporting) provider.register();
  installed = { exporting, resource, spanProcessor, shutdown: () => provider.shutdown() };
  return installed;
}

export function orchestratorTracer(): Tracer {
  return trace.getTracer('temporal-dev-orchestrator');
}

/** Client interceptors that put the active trace context into what the client sends to Temporal. */
export function tracingClientInterceptors() {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}
