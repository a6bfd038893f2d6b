// The worker's Prometheus endpoint: sandbox and agent-run counters (src/sandbox/metrics.ts). Off
// unless ORCH_WORKER_METRICS_PORT is set; bound to loopback unless ORCH_WORKER_METRICS_HOST says
// otherwise, since nothing on it is for the public.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { workerRegistry } from '../activities/metrics';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWorkerMetrics(host: string, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'not found: GET /metrics' }));
      return;
    }
    workerRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': workerRegistry.contentType }).end(text),
      () =>
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'metrics unavailable' })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
