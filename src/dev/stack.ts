// The whole orchestrator on one machine: a Temporal dev server whose state persists in
// <data>/temporal.db, a worker and the HTTP API. Used by `npm start` and `npm run demo`.
import type { Client } from '@temporalio/client';
import { ConfigError, type AppConfig } from '../config';
import { resolveTool } from '../config/paths';
import { connectClient } from '../client/connection';
import { startApi } from '../api/start';
import { startWorker, type RunningWorker } from '../worker/start';
import { startDevServer } from '../temporal/dev-server';
import type { Logger } from '../util/logger';

export interface RunningStack {
  readonly client: Client;
  readonly worker: RunningWorker;
  readonly apiUrl: string;
  readonly temporalAddress: string;
  readonly uiUrl: string;
  readonly dbFile: string;
  /** Stops API, worker and server, newest first. */
  stop(): Promise<void>;
}

export async function startStack(config: AppConfig, logger: Logger): Promise<RunningStack> {
  if (config.temporal.tls || config.temporal.apiKey) {
    // The dev server speaks plain gRPC on loopback; these settings are for a cluster.
    throw new ConfigError(
      `npm start runs its own Temporal dev server without TLS, but TLS or an API key is configured (${config.temporal.tlsSources.join(', ')}): unset those, or run dist/worker/main.js and dist/api/main.js against your cluster (docs/operations/production.md)`,
    );
  }
  const [host, portText] = splitAddress(config.env.TEMPORAL_ADDRESS);
  const server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir: config.dataDir,
    ip: host,
    port: Number(portText),
    uiPort: config.env.ORCH_UI_PORT,
    namespace: config.env.TEMPORAL_NAMESPACE,
    logger,
  });
  const stops: (() => Promise<void>)[] = [() => server.stop()];
  const stop = async (): Promise<void> => {
    for (const step of stops.reverse()) await step();
  };
  try {
    // One process with the code in front of you: its build takes the routing (ADR-0028).
    const worker = await startWorker(config, logger, { defaultPromote: 'always' });
    stops.push(() => worker.stop());
    const client = await connectClient(config);
    stops.push(() => client.connection.close());
    const api = await startApi(config, client, logger);
    stops.push(() => api.close());
    return {
      client,
      worker,
      apiUrl: api.url,
      temporalAddress: server.address,
      uiUrl: `${server.uiUrl}/namespaces/${config.env.TEMPORAL_NAMESPACE}/workflows`,
      dbFile: server.dbFile,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function splitAddress(address: string): [string, string] {
  const index = address.lastIndexOf(':');
  if (index <= 0) throw new Error(`TEMPORAL_ADDRESS must be host:port, got ${JSON.stringify(address)}`);
  return [address.slice(0, index), address.slice(index + 1)];
}
