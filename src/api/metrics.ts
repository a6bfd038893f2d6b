// Prometheus metrics of the API: deliveries by source, event and outcome, their latency, and the
// intake journal's backlog and forwarding.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createIntakeMetrics, type IntakeMetrics } from '../intake/metrics';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly deliveries: Counter<'source' | 'event' | 'outcome'>;
  readonly duration: Histogram<'source'>;
  /** Answers with a 5xx status: each is a fault of ours, never the sender's. */
  readonly serverErrors: Counter<'route'>;
  readonly intake: IntakeMetrics;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'orch_api_' });
  return {
    registry,
    intake: createIntakeMetrics(registry),
    deliveries: new Counter({
      name: 'orch_webhook_deliveries_total',
      help: 'Webhook deliveries by source, event type and outcome',
      labelNames: ['source', 'event', 'outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'orch_webhook_duration_seconds',
      help: 'Time from receiving a webhook delivery to answering it',
      labelNames: ['source'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    serverErrors: new Counter({
      name: 'orch_api_server_errors_total',
      help: 'API answers with a 5xx status, by route',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
  };
}
