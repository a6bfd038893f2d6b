// Worker process entry point (production: one container per worker).
import { loadConfig } from '../config';
import { startWorker } from './start';
import { installRuntime } from '../temporal/runtime';
import { createLogger } from '../util/logger';
import { exitOnStartupError, onShutdownSignal } from '../util/main';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.env.ORCH_LOG_LEVEL, base: { component: 'worker' } });
  await installRuntime(logger, { sdkMetrics: config.env.ORCH_WORKER_METRICS_PORT !== undefined });
  const running = await startWorker(config, logger);
  onShutdownSignal(async (signal) => {
    logger.info('stopping worker', { signal });
    await running.stop();
  });
  await running.done;
}

main().catch(exitOnStartupError);
