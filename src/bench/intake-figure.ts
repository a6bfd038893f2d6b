// Webhook intake through the API process (dist/api/main.js: verify, map, journal, forward,
// answer) against raw signalWithStart from a client, on the same Temporal dev server in the same
// run; then the journal alone with Temporal unreachable, and with a backlog of 10,000 in it.
// The API runs as its own process, as in production, so the bench's clients do not share its
// event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { submitWorkItem } from '../client/work-items';
import { loadConfig } from '../config';
import { PROJECT_ROOT, resolveTool } from '../config/paths';
import { IntakeJournal, journalFile } from '../intake/journal';
import { startDevServer } from '../temporal/dev-server';
import { createLogger } from '../util/logger';
import { freePort, portOpen } from '../util/net';
import { planeWorld } from '../dev/plane-world';
import { compared, type Figure } from './figure';
import { cpuMs } from './proc';
import { compare, interleaved, summarize } from './stats';
import { connectGuarded } from '../temporal/closed-channel-guard';
import { eachConcurrently } from './concurrently';

/** Deliveries in flight at once, from the bench's side (a busy Plane and Gitea together). */
const CONCURRENCY = 8;
const BACKLOG = 10_000;

interface Round {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export async function intakeFigures(rounds: number, quick: boolean): Promise<Figure[]> {
  const perRound = quick ? 100 : 400;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-intake-'));
  const logger = createLogger({ write: () => undefined });
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir: path.join(dir, 'temporal'),
    ip: '127.0.0.1',
    port,
    uiPort,
    namespace: 'default',
    logger,
  });
  const world = planeWorld({ key: 'bench', prefix: 'BENCH' });
  const plane = await world.plane();
  fs.writeFileSync(path.join(dir, 'projects.yaml'), world.projectsYaml);
  const env = (name: string, temporal: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_DATA_DIR: path.join(dir, name),
    TEMPORAL_ADDRESS: temporal,
    ORCH_TASK_QUEUE: 'bench-intake',
    ORCH_PLANE_WEBHOOK_SECRET: world.secret,
    ORCH_PLANE_API_URL: plane.url,
    ORCH_PLANE_API_KEY: world.secret,
    ORCH_PLANE_WORKSPACE: 'bench',
    ORCH_METRICS_PORT: '0',
    ORCH_LOG_LEVEL: 'error',
  });
  const config = loadConfig(env('raw', server.address), dir);
  const up = new Client({
    connection: await connectGuarded(server.address),
  });
  const apiUp = await benchApi(env('up', server.address));
  const apiDown = await benchApi(env('down', `127.0.0.1:${await freePort()}`));
  let sequence = 0;
  const tickets = (n: number) => Array.from({ length: n }, () => ++sequence);
  try {
    const throughApi = (api: BenchApi) => async (): Promise<Round> => {
      const bodies = tickets(perRound).map((n) => world.created(n));
      const round = await timed(bodies, (b) => post(api.url, b, world.secret));
      // Up: answers come once Temporal took each delivery; the journal must be empty too.
      if (api === apiUp) await drained(api.journal);
      return round;
    };
    const raw = async (): Promise<Round> =>
      timed(tickets(perRound), async (n) => {
        await submitWorkItem(
          up,
          config,
          'bench',
          { ticket: `BENCH-${n}`, title: `Bench ${n}`, description: '' },
          { key: `bench:${n}`, source: 'plane', type: 'ticket.created', summary: 'bench' },
        );
      });
    const cpuBefore = apiUp.cpuSeconds();
    const withUp = await interleaved(rounds, throughApi(apiUp), raw);
    const cpuPerDelivery = ((apiUp.cpuSeconds() - cpuBefore) * 1000) / ((rounds + 1) * perRound);
    const withDown = await interleaved(rounds, throughApi(apiDown), raw);
    // A backlog of 10,000 waits in the down API's journal; deliveries keep coming.
    // Filled in transactions of 1,000 (one sync each): the fill is set-up, not what is measured.
    const fill = tickets(Math.max(0, BACKLOG - apiDown.journal.stats().backlog));
    for (let i = 0; i < fill.length; i += 1000) {
      const refused = apiDown.journal
        .appendMany(
          fill.slice(i, i + 1000).map((n) => ({
            key: `backlog:${n}`,
            lane: `plane:backlog-${n}`,
            source: 'plane' as const,
            event: 'issue',
            payload: world.created(n).toString('utf8'),
          })),
        )
        .find((r) => r instanceof Error);
      if (refused) throw refused;
    }
    const backlogged = await interleaved(rounds, throughApi(apiDown), throughApi(apiDown));
    const backlog = apiDown.journal.stats().backlog;
    return [
      {
        ...figure(
          'intake throughput, Temporal up',
          '/s',
          withUp.a,
          withUp.b,
          'perSecond',
          '>= 0.95x raw',
          (r) => r >= 0.95,
        ),
        notes:
          `the API process used ${cpuPerDelivery.toFixed(2)} ms of CPU per delivery; on ${os.cpus().length} cores it ` +
          `shares them with the dev server, whose own throughput is CPU-bound here`,
      },
      figure('intake p50 answer, Temporal up', 'ms', withUp.a, withUp.b, 'p50', '<= 2x raw', (r) => r <= 2),
      figure('intake p99 answer, Temporal up', 'ms', withUp.a, withUp.b, 'p99', '<= 1.5x raw', (r) => r <= 1.5),
      figure(
        'intake throughput, Temporal down (journal only)',
        '/s',
        withDown.a,
        withDown.b,
        'perSecond',
        '>= 0.95x raw (up)',
        (r) => r >= 0.95,
      ),
      {
        ...figure(
          `intake p99 answer, Temporal down, ${backlog} waiting`,
          'ms',
          backlogged.a,
          withDown.a,
          'p99',
          '< 1000 ms',
          () => true,
        ),
        met: summarize(backlogged.a.map((r) => r.p99)).max < 1000,
        notes: `baseline: the same with the journal's backlog below ${rounds * perRound + 1}; ${CONCURRENCY} deliveries in flight`,
      },
    ];
  } finally {
    await apiUp.close();
    await apiDown.close();
    await up.connection.close();
    await plane.close();
    await server.stop();
    agent.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function figure(
  name: string,
  unit: string,
  project: readonly Round[],
  baseline: readonly Round[],
  field: keyof Round,
  target: string,
  met: (ratio: number) => boolean,
): Figure {
  const c = compare(
    project.map((r) => r[field]),
    baseline.map((r) => r[field]),
  );
  return { name, unit, ...compared(c), target, met: met(c.paired.median) };
}

/** Runs `work` over `items`, CONCURRENCY at a time: deliveries per second and answer percentiles. */
async function timed<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<Round> {
  const latencies: number[] = [];
  const started = performance.now();
  await eachConcurrently(items, CONCURRENCY, async (item) => {
    const t = performance.now();
    await work(item);
    latencies.push(performance.now() - t);
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { perSecond: items.length / seconds, p50: at(0.5), p99: at(0.99) };
}

/** The load generator's HTTP client: plain keep-alive requests, light on the CPU it shares with the server. */
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * One delivery. A kept-alive socket the API closed for idleness just as it was reused fails
 * with ECONNRESET before the API read anything (Node's documented race): sent again, once.
 */
function post(url: string, body: Buffer, secret: string, resent = false): Promise<void> {
  const target = new URL('/webhooks/plane', url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-plane-event': 'issue',
          'x-plane-delivery': crypto.randomUUID(),
          'x-plane-signature': crypto.createHmac('sha256', secret).update(body).digest('hex'),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const outcome = (JSON.parse(text) as { outcome?: string }).outcome ?? '';
          if (res.statusCode === 202 && ['started', 'queued'].includes(outcome)) resolve();
          else reject(new Error(`bench delivery answered ${res.statusCode} ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && err.code === 'ECONNRESET' && !resent) post(url, body, secret, true).then(resolve, reject);
      else reject(err);
    });
    req.end(body);
  });
}

async function drained(journal: IntakeJournal): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (journal.stats().backlog > 0) {
    if (Date.now() > deadline) throw new Error('the bench journal did not drain');
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface BenchApi {
  readonly url: string;
  /** CPU seconds the API process has used so far (user + system, from /proc). */
  cpuSeconds(): number;
  /** The API's own journal file, opened beside it (SQLite WAL: both may read and write). */
  readonly journal: IntakeJournal;
  close(): Promise<void>;
}

async function benchApi(env: NodeJS.ProcessEnv): Promise<BenchApi> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/api/main.js')], {
    env: { ...env, ORCH_API_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  while (!(await portOpen('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error(`the bench API exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error('the bench API did not listen in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  const journal = new IntakeJournal(journalFile(env.ORCH_DATA_DIR!), { mustExist: true });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuSeconds: () => cpuMs(child.pid) / 1000,
    journal,
    async close() {
      journal.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One Plane project whose work items are created in the trigger state, and its Plane API. */
