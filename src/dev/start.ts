// `npm start`: the whole orchestrator on one machine (see stack.ts); Ctrl-C stops all of it.
import { loadConfig } from '../config';
import { installRuntime } from '../temporal/runtime';
import { createLogger } from '../util/logger';
import { exitOnStartupError, onShutdownSignal } from '../util/main';
import { startStack } from './stack';
import { setupTracing } from '../telemetry/tracing';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.env.ORCH_LOG_LEVEL, base: { component: 'start' } });
  await installRuntime(logger, { sdkMetrics: config.env.ORCH_WORKER_METRICS_PORT !== undefined });
  // One service name for the whole single-process orchestrator.
  setupTracing('orchestrator');
  const stack = await startStack(config, logger);
  onShutdownSignal(async (signal) => {
    logger.info('shutting down', { signal });
    await stack.stop();
  });

  process.stdout.write(
    [
      '',
      'Temporal development orchestrator is running:',
      `  API       ${stack.apiUrl}  (health: ${stack.apiUrl}/healthz)`,
      `  Temporal  ${stack.temporalAddress}  (gRPC, namespace ${config.env.TEMPORAL_NAMESPACE})`,
      `  Web UI    ${stack.uiUrl}`,
      `  State     ${stack.dbFile}`,
      `  Projects  ${Object.keys(config.projects).join(', ')} (from ${config.projectsFile})`,
      'Submit a work item:  npx orch submit <project> <TICKET-1> --title "..."',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  // A worker that dies on its own takes the whole supervisor down, loudly.
  stack.worker.done.catch((err: unknown) => {
    logger.error('worker stopped unexpectedly', { err });
    process.kill(process.pid, 'SIGTERM');
  });
}

main().catch(exitOnStartupError);
