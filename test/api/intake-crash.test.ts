// The real API process (dist/) killed with SIGKILL while it forwards its journal, then started
// again on the same data directory: every delivery reaches its work item, none twice, in order.
// Temporal sits behind a TCP pass-through that first refuses (the journal fills), then answers
// slowly (so the kill lands mid-forwarding).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { IntakeJournal } from '../../src/intake/journal';
import type { WorkItemState } from '../../src/domain';
import { stateQuery } from '../../src/workflows/messages';
import { runUntilCancelled, scriptedActivities } from '../support/doubles';
import { fakePlane, type FakeServer } from '../support/fake-trackers';
import { historyEffects } from '../support/history-effects';
import {
  intakeWorld,
  planeComment,
  planeCreated,
  postDelivery,
  type BuiltDelivery,
  type IntakeItem,
} from '../support/intake-world';
import { freePort, spawnLogged, type Spawned } from '../support/processes';
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTemporal, workflowBundle } from '../support/temporal';
import { PLANE_API_KEY, PLANE_WEBHOOK_SECRET } from '../support/test-secrets';
import { WORLD } from '../support/webhook-fixtures';
import { uniqueTicketNumber } from '../support/work-item-harness';

jest.setTimeout(180_000);

const API = path.resolve(__dirname, '../../dist/api/main.js');
const world = intakeWorld([['kill', 'KILL']], 6, Number(uniqueTicketNumber()));
const queue = `intake-crash-${process.pid}`;
let env: TestWorkflowEnvironment;
let plane: FakeServer;
let proxy: TcpProxy;
let worker: Worker;
let running: Promise<void>;
const apis: Spawned[] = [];

beforeAll(async () => {
  env = await startTemporal();
  plane = await fakePlane(world.plane());
  proxy = await tcpProxy(env.address);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: workflowBundle(),
    activities: scriptedActivities({ step: () => runUntilCancelled(() => undefined) }).activities,
  });
  running = worker.run();
});

afterAll(async () => {
  for (const a of apis) a.child.kill('SIGKILL');
  for (const item of world.items)
    await env.client.workflow
      .getHandle(item.workflowId)
      .terminate('test over')
      .catch(() => undefined);
  worker?.shutdown();
  await running?.catch(() => undefined);
  await proxy?.close();
  await plane?.close();
});

test('kill -9 of the API mid-forwarding, then a restart: nothing lost, nothing doubled, order kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-intake-crash-'));
  fs.writeFileSync(path.join(dir, 'projects.yaml'), world.projectsYaml);
  const port = await freePort();
  const apiEnv = {
    PATH: process.env.PATH,
    ORCH_DATA_DIR: path.join(dir, 'data'),
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_API_PORT: String(port),
    ORCH_METRICS_PORT: '0',
    TEMPORAL_ADDRESS: proxy.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_PLANE_WEBHOOK_SECRET: PLANE_WEBHOOK_SECRET,
    ORCH_PLANE_API_URL: plane.url,
    ORCH_PLANE_API_KEY: PLANE_API_KEY,
    ORCH_PLANE_WORKSPACE: 'acme',
    ORCH_PLANE_BOT_USER_ID: WORLD.planeBot,
    ORCH_INTAKE_CONCURRENCY: '2',
    ORCH_INTAKE_ANSWER_WAIT_MS: '0',
    ORCH_INTAKE_MAX_BACKOFF_MS: '300',
    ORCH_LOG_LEVEL: 'info',
  };
  const startApi = async (): Promise<Spawned> => {
    const api = spawnLogged(process.execPath, [API], apiEnv);
    apis.push(api);
    await api.waitFor(/api listening/, 30_000);
    return api;
  };
  const url = `http://127.0.0.1:${port}`;

  // Temporal is unreachable while the deliveries arrive: they all wait in the journal.
  proxy.setOpen(false);
  const first = await startApi();
  const plan: { item: IntakeItem; delivery: BuiltDelivery }[] = [];
  for (const item of world.items) plan.push({ item, delivery: planeCreated(item) });
  for (let round = 0; round < 7; round++)
    for (const item of world.items)
      plan.push({
        item,
        delivery: planeComment(item, round % 3 === 2 ? `/top-up 1 round ${round}` : `round ${round} on ${item.ticket}`),
      });
  for (const { delivery } of plan) expect((await postDelivery(url, delivery)).body.outcome).toBe('queued');

  // Temporal answers again, slowly; the API is killed while about half is forwarded.
  const journal = new IntakeJournal(path.join(dir, 'data', 'intake', 'journal.sqlite'));
  proxy.setDelay(25);
  proxy.setOpen(true);
  const deadline = Date.now() + 60_000;
  while (journal.stats().backlog > plan.length / 2) {
    if (Date.now() > deadline) throw new Error(`forwarding did not progress: ${first.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  first.child.kill('SIGKILL');
  await first.exited();
  const leftAtKill = journal.stats().backlog;
  expect(leftAtKill).toBeGreaterThan(0);
  expect(leftAtKill).toBeLessThan(plan.length);

  proxy.setDelay(0);
  await startApi();
  const drained = Date.now() + 60_000;
  while (journal.stats().backlog > 0) {
    if (Date.now() > drained) throw new Error(`backlog left after the restart: ${journal.stats().backlog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(journal.stats().deadLetters).toBe(0);
  journal.close();

  for (const item of world.items) {
    const expected = plan.filter((p) => p.item === item).map((p) => p.delivery.key);
    const effects = await historyEffects(env.client, item.workflowId);
    // What was in flight at the kill may reach the history twice; the workflow applies it once.
    const firstSeen = effects.filter((k, i) => effects.indexOf(k) === i);
    expect({ item: item.ticket, order: firstSeen }).toEqual({ item: item.ticket, order: expected });
    const state: WorkItemState = await env.client.workflow.getHandle(item.workflowId).query(stateQuery);
    const commands = plan.filter((p) => p.item === item && p.delivery.body.includes('/top-up')).length;
    expect({
      item: item.ticket,
      events: state.events.map((e) => e.key),
      overrides: state.overrides.length,
      duplicatesIgnored: state.duplicateEventsIgnored,
    }).toEqual({
      item: item.ticket,
      events: expected.filter((k) => effects.includes(k) && !isCommand(plan, k)),
      overrides: commands,
      duplicatesIgnored: effects.length - firstSeen.length,
    });
  }
});

function isCommand(plan: { delivery: BuiltDelivery }[], key: string): boolean {
  return plan.some((p) => p.delivery.key === key && p.delivery.body.includes('/top-up'));
}
