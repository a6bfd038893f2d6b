// `npm start`'s supervisor (dist/dev/start.js) as a user runs it: persistent state, search
// attributes on an existing database, clean Ctrl-C, work items found again after a restart.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../../src/cli/main';
import { resolveTool } from '../../src/config/paths';
import type { WorkItemState } from '../../src/domain';
import { pidFileOf, stopLeftoverServer } from '../../src/temporal/dev-server-leftover';
import { startDevServer } from '../../src/temporal/dev-server';
import { createLogger } from '../../src/util/logger';
import { freePort, portOpen, spawnLogged as spawnProcess, stablePort, type Spawned } from '../support/processes';

const ROOT = path.resolve(__dirname, '../..');
const START = path.join(ROOT, 'dist/dev/start.js');
jest.setTimeout(180_000);

// A failed expectation must not leave an `npm start` (and its dev server) running after the test.
const started: Spawned[] = [];
const spawnLogged = (...args: Parameters<typeof spawnProcess>): Spawned => {
  const spawned = spawnProcess(...args);
  started.push(spawned);
  return spawned;
};
afterEach(() => {
  for (const p of started.splice(0))
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
});

test('npm start persists work items across a clean restart and registers search attributes on an existing database', async () => {
  expect({ built: fs.existsSync(START) }).toEqual({ built: true }); // `npm test` builds first (pretest)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-start-'));
  // Kept across three starts: ports below the ephemeral range, which nothing else is handed.
  const [grpc, ui, api] = [await stablePort(), await stablePort(), await stablePort()];
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${grpc}`,
    ORCH_UI_PORT: String(ui),
    ORCH_API_PORT: String(api),
    ORCH_METRICS_PORT: '0',
    ORCH_DATA_DIR: dataDir,
    ORCH_PROJECTS_FILE: path.join(ROOT, 'projects.yaml'),
    ORCH_LOG_LEVEL: 'warn',
    // Whatever the machine has, this instance has no model credentials.
    ANTHROPIC_API_KEY: '',
    ANTHROPIC_AUTH_TOKEN: '',
  };

  // A database made by a plain dev server has none of our search attributes.
  const bare = spawnLogged(
    resolveTool('temporal'),
    [
      'server',
      'start-dev',
      '--headless',
      '--db-filename',
      path.join(dataDir, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(grpc),
    ],
    env,
  );
  for (let i = 0; i < 100 && !(await portOpen(grpc)); i++) await new Promise((r) => setTimeout(r, 100));
  bare.child.kill('SIGTERM');
  await bare.exited();

  const orch = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env: { ...env, USER: 'e2e' },
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  // First start: registers the attributes through `temporal operator`, runs worker and API.
  const first = spawnLogged(process.execPath, [START], env);
  await first.waitFor(/Press Ctrl-C to stop/, 60_000);
  expect(first.output()).toContain(`Web UI    http://127.0.0.1:${ui}/namespaces/default/workflows`);
  expect(first.output()).toContain(`API       http://127.0.0.1:${api}`);
  expect(await (await fetch(`http://127.0.0.1:${api}/readyz`)).json()).toEqual({
    status: 'ready',
    namespace: 'default',
    temporal: 'reachable',
    intake: { backlog: 0, oldestAgeSeconds: 0, deadLetters: 0 },
  });
  const { stdout: attributes } = await promisify(execFile)(resolveTool('temporal'), [
    'operator',
    'search-attribute',
    'list',
    '--address',
    `127.0.0.1:${grpc}`,
  ]);
  for (const name of ['OrchProject', 'OrchStage', 'OrchTicket', 'OrchBlocked', 'OrchAttempt', 'OrchCost'])
    expect(attributes).toContain(name);

  expect((await orch('submit', 'orchestrator', 'ORCH-7', '--title', 'Self-hosting smoke test')).code).toBe(0);
  // Without model credentials the agent cannot run: the item waits for a person to set them.
  let state: WorkItemState | undefined;
  for (let i = 0; i < 100 && state?.status !== 'blocked'; i++) {
    const status = await orch('status', 'ORCH-7', '--json');
    if (status.code === 0) state = JSON.parse(status.out);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(state?.blocked).toMatchObject({
    kind: 'needs-person',
    reason: 'no model credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) for the worker, then retry',
    stage: 'analysis',
  });

  first.child.kill('SIGINT');
  expect(await first.exited()).toBe(0);
  expect(await portOpen(grpc)).toBe(false);
  expect(await portOpen(api)).toBe(false);
  expect(await portOpen(ui)).toBe(false);

  // Second start on the same database: the item is where it was.
  const second = spawnLogged(process.execPath, [START], env);
  await second.waitFor(/Press Ctrl-C to stop/, 60_000);
  const again = await orch('status', 'ORCH-7', '--json');
  expect(again.code).toBe(0);
  const restored: WorkItemState = JSON.parse(again.out);
  expect(restored).toMatchObject({
    ticket: 'ORCH-7',
    stage: 'analysis',
    status: 'blocked',
    title: 'Self-hosting smoke test',
  });
  let listed = '';
  for (let i = 0; i < 50 && !listed.includes('ORCH-7'); i++) listed = (await orch('list', '--blocked')).out;
  expect(listed).toMatch(/ORCH-7\s+orchestrator\s+analysis\s+yes/);
  // Killed outright: nothing of it survives (its dev server dies with it), and the next start
  // comes up on the same ports and database.
  second.child.kill('SIGKILL');
  await second.exited();
  // Every port it held (the dev server's UI server closes last): a port still bound would fail
  // the next start, which is the next start's business only once the old process is gone.
  const anyOpen = async () => (await Promise.all([grpc, ui, api].map((port) => portOpen(port)))).some(Boolean);
  for (let i = 0; i < 100 && (await anyOpen()); i++) await new Promise((r) => setTimeout(r, 100));
  expect(await anyOpen()).toBe(false);
  const third = spawnLogged(process.execPath, [START], env);
  await third.waitFor(/Press Ctrl-C to stop/, 60_000);
  expect(JSON.parse((await orch('status', 'ORCH-7', '--json')).out)).toMatchObject({
    ticket: 'ORCH-7',
    status: 'blocked',
  });
  third.child.kill('SIGINT');
  expect(await third.exited()).toBe(0);
});

test('a dev server a killed start left running on the database is stopped by the next start', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-leftover-'));
  const dbFile = path.join(dataDir, 'temporal.db');
  const grpc = await freePort();
  // A leftover as a start without setpriv would leave it: the server on our database, its pid recorded.
  const leftover = spawnLogged(
    resolveTool('temporal'),
    ['server', 'start-dev', '--headless', '--db-filename', dbFile, '--ip', '127.0.0.1', '--port', String(grpc)],
    process.env,
  );
  for (let i = 0; i < 100 && !(await portOpen(grpc)); i++) await new Promise((r) => setTimeout(r, 100));
  fs.writeFileSync(pidFileOf(dbFile), `${leftover.child.pid}\n`);
  const logger = createLogger({ level: 'error' });
  const server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir,
    ip: '127.0.0.1',
    port: grpc,
    uiPort: await freePort(),
    namespace: 'default',
    logger,
  });
  expect(await leftover.exited()).not.toBeUndefined();
  expect(Number(fs.readFileSync(pidFileOf(dbFile), 'utf8'))).not.toBe(leftover.child.pid);
  await server.stop();
  expect(fs.existsSync(pidFileOf(dbFile))).toBe(false);
});

test('a pid file naming another program is never acted on', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-leftover-'));
  const dbFile = path.join(dataDir, 'temporal.db');
  const bystander = spawnLogged('sleep', ['30'], process.env);
  fs.writeFileSync(pidFileOf(dbFile), `${bystander.child.pid}\n`);
  expect(await stopLeftoverServer(dbFile)).toBe(false);
  expect(bystander.child.exitCode).toBeNull();
  bystander.child.kill('SIGKILL');
});
