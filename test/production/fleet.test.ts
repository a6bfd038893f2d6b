// Scale-out on the production server (ADR-0021): three worker hosts, each a separate process
// with its own data directory (no shared disk), run 30 items with the real Claude Code CLI on the
// scripted model. One host is killed with SIGKILL while it runs agents: every item still reaches
// done, the dead host's runs finish on another host from origin with the lost session recorded,
// and no two agent runs ever overlapped in one checkout (each run logs its start and end).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { submitWorkItem } from '../../src/client/work-items';
import { loadConfig } from '../../src/config';
import { pipelineScript } from '../../src/dev/scripted-model/pipeline-script';
import { startScriptedModelServer, type ScriptedModelServer } from '../../src/dev/scripted-model/server';
import { workItemWorkflowId, type WorkItemState } from '../../src/domain';
import { stateQuery } from '../../src/workflows/messages';
import { scriptedWorkerEnv, startProductionTemporal, type ProductionTemporal } from '../support/production-temporal';
import { quickShop } from '../support/quick-shop';
import { spawnLogged, type Spawned } from '../support/processes';
import { connectGuarded } from '../../src/temporal/closed-channel-guard';

jest.setTimeout(900_000);

const DIST = path.resolve(__dirname, '../../dist');
const ITEMS = 30;
const HOSTS = ['host-1', 'host-2', 'host-3'];
const VICTIM = 'host-2';

let temporal: ProductionTemporal;
let model: ScriptedModelServer;
let health: http.Server;
let connection: Connection;
let dir: string;
let env: Record<string, string>;
const hosts = new Map<string, Spawned>();

beforeAll(async () => {
  temporal = await startProductionTemporal();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-fleet-test-'));
  ({ health } = await quickShop(dir));
  model = await startScriptedModelServer(pipelineScript({}));
  env = {
    ...scriptedWorkerEnv(temporal.address, dir, model.url),
    ORCH_AGENT_SLOTS: '1',
    ORCH_BUILD_SLOTS: '1',
    // A dead host is noticed in seconds: its runs stop heartbeating, its queue stops being polled.
    ORCH_HEARTBEAT_TIMEOUT_MS: '5000',
    ORCH_HOST_START_TIMEOUT_MS: '8000',
    ORCH_ACTIVITY_RETRY_INITIAL_MS: '500',
  };
  connection = await connectGuarded(temporal.address);
});

afterAll(async () => {
  for (const host of hosts.values()) if (host.child.exitCode === null) host.child.kill('SIGKILL');
  await connection?.close();
  await model?.close();
  health?.close();
  await temporal?.close();
});

interface RunSpan {
  readonly host: string;
  readonly ticket: string;
  readonly stage: string;
  readonly workspace: string;
  readonly start: number;
  end?: number;
}

/** The runs a host's log shows, each from its 'agent run started' to its 'agent run finished'. */
function runsOf(host: string, output: string): RunSpan[] {
  const runs: RunSpan[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.msg !== 'agent run started' && entry.msg !== 'agent run finished') continue;
    const at = Date.parse(String(entry.time));
    const key = { host, ticket: String(entry.ticket), stage: String(entry.stage), workspace: String(entry.workspace) };
    expect(entry.host).toBe(host);
    if (entry.msg === 'agent run started') runs.push({ ...key, start: at });
    else {
      const open = runs.find((r) => r.end === undefined && r.workspace === key.workspace && r.stage === key.stage);
      if (open) open.end = at;
    }
  }
  return runs;
}

test('thirty items on three hosts, one killed while it runs agents: all done, its runs moved, no checkout shared', async () => {
  for (const host of HOSTS) {
    const worker = spawnLogged(process.execPath, [path.join(DIST, 'worker/main.js')], {
      ...env,
      ORCH_HOST_ID: host,
      ORCH_DATA_DIR: path.join(dir, `${host}-data`),
    });
    hosts.set(host, worker);
  }
  for (const worker of hosts.values()) await worker.waitFor(/worker polling/, 60_000);

  const config = loadConfig({ ...env, ORCH_DATA_DIR: path.join(dir, 'client-data') });
  const client = new Client({ connection });
  const tickets = Array.from({ length: ITEMS }, (_, i) => `SHOP-${i + 1}`);
  for (const ticket of tickets) {
    await submitWorkItem(
      client,
      config,
      'shop',
      { ticket, title: `Apply coupon codes ${ticket}`, description: 'Customers enter a coupon code at checkout.' },
      { key: `fleet:${ticket}`, source: 'cli', type: 'ticket.created' },
    );
  }

  // The victim dies while it is in the middle of an agent run.
  const victim = hosts.get(VICTIM) as Spawned;
  const deadline = Date.now() + 300_000;
  while (!runsOf(VICTIM, victim.output()).some((r) => r.end === undefined)) {
    if (Date.now() > deadline) throw new Error(`${VICTIM} never ran an agent`);
    await new Promise((r) => setTimeout(r, 50));
  }
  victim.child.kill('SIGKILL');
  const killedAt = Date.now();
  await victim.exited();
  const lostOnVictim = runsOf(VICTIM, victim.output()).filter((r) => r.end === undefined);
  expect(lostOnVictim.length).toBeGreaterThan(0);

  const states = new Map<string, WorkItemState>();
  const doneBy = Date.now() + 600_000;
  while (states.size < ITEMS) {
    for (const ticket of tickets.filter((t) => !states.has(t))) {
      const state = await client.workflow
        .getHandle(workItemWorkflowId('shop', ticket))
        .query(stateQuery)
        .catch(() => undefined);
      if (state?.status === 'done') states.set(ticket, state);
      else if (state?.status === 'blocked' || state?.status === 'cancelled')
        throw new Error(`${ticket} ${state.status} at ${state.stage}: ${state.blocked?.reason}`);
    }
    if (Date.now() > doneBy) {
      // Where each late item stands, so a failure says what it waits for.
      const late = await Promise.all(
        tickets
          .filter((t) => !states.has(t))
          .map(async (t) => {
            const handle = client.workflow.getHandle(workItemWorkflowId('shop', t));
            const s = await handle.query(stateQuery).catch(() => undefined);
            const pending = (await handle.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
            const acts = pending.map((a) => `${a.activityType?.name} attempt ${a.attempt} ${a.state}`).join('; ');
            return `${t} at ${s?.stage ?? '?'} (${s?.status ?? '?'}, lost runs ${s?.lostRuns?.length ?? 0}) [${acts}]`;
          }),
      );
      throw new Error(`not done in time: ${late.join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }

  const all = HOSTS.flatMap((host) => runsOf(host, (hosts.get(host) as Spawned).output()));
  // Every host ran agents: the claims spread the work.
  expect(new Set(all.map((r) => r.host))).toEqual(new Set(HOSTS));
  // The runs lost with the victim were recorded and finished on another host.
  for (const lost of lostOnVictim) {
    const state = states.get(lost.ticket) as WorkItemState;
    expect(state.lostRuns).toEqual(
      expect.arrayContaining([expect.objectContaining({ stage: lost.stage, work: 'runAgent', host: VICTIM })]),
    );
    const redone = all.filter(
      (r) => r.ticket === lost.ticket && r.stage === lost.stage && r.host !== VICTIM && r.start > lost.start,
    );
    expect(redone.length).toBeGreaterThan(0);
    expect(redone.every((r) => r.end !== undefined)).toBe(true);
  }
  // No two runs ever shared a checkout at once (a run on the killed host ended when it died).
  const byCheckout = new Map<string, RunSpan[]>();
  for (const run of all) byCheckout.set(run.workspace, [...(byCheckout.get(run.workspace) ?? []), run]);
  for (const [workspace, runs] of byCheckout) {
    const sorted = runs.sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      const before = sorted[i - 1] as RunSpan;
      expect({ workspace, overlap: (sorted[i] as RunSpan).start < (before.end ?? killedAt) }).toEqual({
        workspace,
        overlap: false,
      });
    }
  }
  // Each item's five agent stages ran to their end somewhere.
  for (const ticket of tickets) {
    const finished = new Set(all.filter((r) => r.ticket === ticket && r.end !== undefined).map((r) => r.stage));
    expect([...finished].sort()).toEqual(['analysis', 'architecture', 'development', 'review', 'testing']);
  }
});
