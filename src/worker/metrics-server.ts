// The worker's Prometheus endpoint: sandbox and agent-run counters (src/activities/metrics.ts).
// Off unless ORCH_WORKER_METRICS_PORT is set; bound to loopback unless ORCH_WORKER_METRICS_HOST
// says otherwise, since nothing on it is for the public.
import { workerRegistry } from '../activities/metrics';
import { listenMetrics } from '../util/metrics-listener';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWorkerMetrics(host: string, port: number): Promise<MetricsServer> {
  const listener = await listenMetrics(workerRegistry, host, port);
  return { url: `${listener.url}/metrics`, close: () => listener.close() };
}
