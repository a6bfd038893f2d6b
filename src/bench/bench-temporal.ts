// A dev server and an in-process worker for the bench's workflow figures, with the bench's own
// workflow bundle (the real work item and its bare baselines) and instant activities.
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { resolveTool } from '../config/paths';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { createLogger } from '../util/logger';
import { freePort } from '../util/net';
import type { InstantActivities } from './instant-activities';
import { runWithHost } from './bench-host';
import { connectGuarded } from '../temporal/closed-channel-guard';

export interface BenchTemporal {
  readonly client: Client;
  readonly queue: string;
  readonly server: DevServer;
  stop(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;

/** The bench's workflow bundle, built once per run. */
export function benchBundle(): Promise<{ code: string }> {
  if (!bundle) {
    // The workflows' own log lines are not the bench's output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    bundle = bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never,
    });
  }
  return bundle;
}

export async function benchTemporal(
  dataDir: string,
  activities: InstantActivities,
  options: { oneMachineDispatch?: boolean; maxCachedWorkflows?: number } = {},
): Promise<BenchTemporal> {
  // Before any connection: installing the quiet runtime must come first.
  const workflowBundle = await benchBundle();
  const server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir,
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    logger: createLogger({ write: () => undefined }),
    defaultDispatch: options.oneMachineDispatch === false,
  });
  const queue = 'bench-item';
  const client = new Client({
    connection: await connectGuarded(server.address),
  });
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection,
    taskQueue: queue,
    workflowBundle,
    activities: activities.activities,
    ...(options.maxCachedWorkflows ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
  // Items carry host routing (ADR-0021): one host serves the claim queues, as `npm start` does.
  const workers = await runWithHost(connection, worker, activities.activities, { id: 'bench-host', slots: 64 });
  return {
    client,
    queue,
    server,
    async stop() {
      workers.stop();
      await workers.running;
      await connection.close();
      await client.connection.close();
      await server.stop();
    },
  };
}
