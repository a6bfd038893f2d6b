// Prometheus metrics of the intake journal and its forwarder. Backlog, age and dead letters are
// read from the journal when scraped, so they are never stale.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IntakeJournal } from './journal';

export interface IntakeMetrics {
  readonly forwardAttempts: Counter<'result'>;
  readonly forwardFailures: Counter<'reason'>;
  /** The journal the gauges read (the API opens it after its metrics exist). */
  watch(journal: IntakeJournal): void;
}

export function createIntakeMetrics(registry: Registry): IntakeMetrics {
  let watched: IntakeJournal | undefined;
  const stats = () => (watched?.isOpen() ? watched.stats() : undefined);
  new Gauge({
    name: 'orch_intake_backlog',
    help: 'Journalled webhook deliveries not yet forwarded to Temporal',
    registers: [registry],
    collect() {
      this.set(stats()?.backlog ?? 0);
    },
  });
  new Gauge({
    name: 'orch_intake_oldest_age_seconds',
    help: 'Age of the oldest journalled delivery not yet forwarded (0 when none)',
    registers: [registry],
    collect() {
      const oldest = stats()?.oldestReceivedAt;
      this.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
    },
  });
  new Gauge({
    name: 'orch_intake_dead_letters',
    help: 'Deliveries that failed for good and wait for a person (orch intake)',
    registers: [registry],
    collect() {
      this.set(stats()?.deadLetters ?? 0);
    },
  });
  return {
    watch: (journal) => (watched = journal),
    forwardAttempts: new Counter({
      name: 'orch_intake_forward_attempts_total',
      help: 'Attempts to forward a journalled delivery, by result (done, unavailable, deferred, retry, poison)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    forwardFailures: new Counter({
      name: 'orch_intake_forward_failures_total',
      help: 'Failed forwarding attempts, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
