// The worker's Prometheus endpoint: sandbox and agent-run counters (src/activities/metrics.ts),
// followed by the Temporal SDK's own metrics (slots used, schedule-to-start latency) read from its
// exporter on loopback at each scrape.
// Off unless ORCH_WORKER_METRICS_PORT is set; bound to loopback unless ORCH_WORKER_METRICS_HOST
// says otherwise, since nothing on it is for the public.
import { workerRegistry } from '../activities/metrics';
import { listenMetrics } from '../util/metrics-listener';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWorkerMetrics(host: string, port: number, sdkMetricsUrl?: string): Promise<MetricsServer> {
  const listener = await listenMetrics(workerRegistry, host, port, () => sdkMetrics(sdkMetricsUrl));
  return { url: `${listener.url}/metrics`, close: () => listener.close() };
}

/** The SDK exporter's text; a scrape during its start (or after it stopped) gets ours alone. */
async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}
