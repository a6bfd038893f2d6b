// `npm start`: the whole orchestrator on one machine. Supervises a Temporal dev server whose
// state persists in <data>/temporal.db, a worker and the HTTP API; Ctrl-C stops all three.
import { loadConfig } from '../config';
import { resolveTool } from '../config/paths';
import { connectClient, startApi, startWorker } from '../services';
import { startDevServer } from '../temporal/dev-server';
import { installRuntime } from '../temporal/runtime';
import { createLogger } from '../util/logger';
import { exitOnStartupError, onShutdownSignal } from '../util/main';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.env.ORCH_LOG_LEVEL, base: { component: 'start' } });
  installRuntime(logger);
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
  onShutdownSignal(async (signal) => {
    logger.info('shutting down', { signal });
    for (const stop of stops.reverse()) await stop();
  });

  const worker = await startWorker(config, logger);
  stops.push(() => worker.stop());
  const client = await connectClient(config);
  stops.push(() => client.connection.close());
  const api = await startApi(config, client, logger);
  stops.push(() => api.close());

  process.stdout.write(
    [
      '',
      'Temporal development orchestrator is running:',
      `  API       ${api.url}  (health: ${api.url}/healthz)`,
      `  Temporal  ${server.address}  (gRPC, namespace ${config.env.TEMPORAL_NAMESPACE})`,
      `  Web UI    ${server.uiUrl}/namespaces/${config.env.TEMPORAL_NAMESPACE}/workflows`,
      `  State     ${server.dbFile}`,
      `  Projects  ${Object.keys(config.projects).join(', ')} (from ${config.projectsFile})`,
      'Submit a work item:  npx orch submit <project> <TICKET-1> --title "..."',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // A worker that dies on its own takes the whole supervisor down, loudly.
  worker.done.catch((err: unknown) => {
    logger.error('worker stopped unexpectedly', { err });
    process.kill(process.pid, 'SIGTERM');
  });
}

function splitAddress(address: string): [string, string] {
  const index = address.lastIndexOf(':');
  if (index <= 0) throw new Error(`TEMPORAL_ADDRESS must be host:port, got ${JSON.stringify(address)}`);
  return [address.slice(0, index), address.slice(index + 1)];
}

main().catch(exitOnStartupError);
