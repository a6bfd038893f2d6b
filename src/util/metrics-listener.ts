// A Prometheus registry served on GET /metrics by a listener of its own (never a public port):
// the API's and the worker's metrics both go through here. More text can be appended per scrape
// (the worker appends the Temporal SDK's own exporter), so one endpoint has it all.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsListener {
  /** The listener's base URL; the metrics are at `${url}/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function listenMetrics(
  registry: Registry,
  host: string,
  port: number,
  more: () => Promise<string> = async () => '',
): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'not found: GET /metrics' }));
      return;
    }
    Promise.all([registry.metrics(), more()]).then(
      ([own, extra]) => res.writeHead(200, { 'content-type': registry.contentType }).end(`${own}${extra}`),
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
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
