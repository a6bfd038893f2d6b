// OpenTelemetry end to end: the API and the worker run from their entry points (dist/) with
// OTEL_EXPORTER_OTLP_ENDPOINT set to a local OTLP/HTTP receiver. One signed Plane delivery
// yields one trace that spans the API's webhook span, the hand-over to Temporal, the work item's
// workflow and its activities. Without an endpoint nothing is exported.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planeWorld } from '../../src/dev/plane-world';
import { SHARED_ADDRESS_VAR } from '../support/shared-temporal';
import { freePort, spawnLogged, type Spawned } from '../support/processes';

jest.setTimeout(120_000);

const DIST = path.resolve(__dirname, '../../dist');

interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
}

/** An OTLP/HTTP receiver (JSON, as the exporter sends it) that keeps every span. */
async function otlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const data = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: Omit<ReceivedSpan, 'service'>[] }[];
          }[];
        };
        for (const rs of data.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const running: Spawned[] = [];
/** Servers the test opens, closed even when it fails (an open one keeps jest from exiting). */
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  for (const close of closers) await close();
});

test('one delivery is one trace: API → signal-with-start → workflow → activity', async () => {
  const receiver = await otlpReceiver();
  closers.push(receiver.close);
  const world = planeWorld({ key: 'traced', prefix: 'TRC' });
  const plane = await world.plane();
  closers.push(plane.close);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-tracing-'));
  fs.writeFileSync(path.join(dir, 'projects.yaml'), world.projectsYaml);
  const apiPort = await freePort();
  const env = {
    PATH: process.env.PATH as string,
    TEMPORAL_ADDRESS: process.env[SHARED_ADDRESS_VAR] as string,
    ORCH_TASK_QUEUE: `tracing-${process.pid}`,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_PLANE_WEBHOOK_SECRET: world.secret,
    ORCH_PLANE_API_URL: plane.url,
    ORCH_PLANE_API_KEY: world.secret,
    ORCH_PLANE_WORKSPACE: 'stand-in',
    ORCH_LOG_LEVEL: 'info',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // Export within a fraction of a second instead of the default 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const worker = spawnLogged(process.execPath, [path.join(DIST, 'worker/main.js')], {
    ...env,
    ORCH_DATA_DIR: path.join(dir, 'worker'),
  });
  running.push(worker);
  const api = spawnLogged(process.execPath, [path.join(DIST, 'api/main.js')], {
    ...env,
    ORCH_DATA_DIR: path.join(dir, 'api'),
    ORCH_API_PORT: String(apiPort),
    ORCH_METRICS_PORT: '0',
  });
  running.push(api);
  await Promise.all([worker.waitFor(/worker polling/, 60_000), api.waitFor(/api listening/, 30_000)]);

  const body = world.created(Number(process.pid), 'Traced item');
  const answer = await fetch(`http://127.0.0.1:${apiPort}/webhooks/plane`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-plane-event': 'issue',
      'x-plane-delivery': `tracing-${process.pid}`,
      'x-plane-signature': world.sign(body),
    },
    body,
  });
  expect(answer.status).toBe(202);

  // The item's first agent step runs (and, without model credentials, asks for a person). A
  // span is exported when it ends; the workflow's own run span lasts as long as the item.
  const deadline = Date.now() + 60_000;
  const named = (name: string) => receiver.spans.find((s) => s.name === name);
  while (!named('RunActivity:runAgent') || !named('StartActivity:runAgent')) {
    if (Date.now() > deadline)
      throw new Error(`spans seen: ${JSON.stringify(receiver.spans.map((s) => `${s.service} ${s.name}`))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const webhook = named('webhook plane') as ReceivedSpan;
  // Nothing of this delivery started a trace of its own.
  expect([...new Set(receiver.spans.map((s) => s.traceId))]).toEqual([webhook.traceId]);
  expect(receiver.spans.map((s) => `${s.service}: ${s.name}`)).toEqual(
    expect.arrayContaining([
      'orchestrator-api: webhook plane',
      'orchestrator-api: SignalWithStartWorkflow:workItem',
      'orchestrator-worker: HandleSignal:event',
      'orchestrator-worker: StartActivity:runAgent',
      'orchestrator-worker: RunActivity:runAgent',
    ]),
  );
  // The chain: the delivery → the hand-over to Temporal; the workflow schedules → the activity runs.
  expect(named('SignalWithStartWorkflow:workItem')?.parentSpanId).toBe(webhook.spanId);
  expect(named('RunActivity:runAgent')?.parentSpanId).toBe(named('StartActivity:runAgent')?.spanId);
  expect(webhook.parentSpanId ?? '').toBe('');
});
