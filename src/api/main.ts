// API process entry point (production: the webhook receiver container).
import { loadConfig } from '../config';
import { checkTlsSettings, lazyClient } from '../client/connection';
import { startApi } from './start';
import { setupTracing } from '../telemetry/tracing';
import { createLogger } from '../util/logger';
import { exitOnStartupError, onShutdownSignal } from '../util/main';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.env.ORCH_LOG_LEVEL, base: { component: 'api' } });
  const tracing = setupTracing('api');
  await checkTlsSettings(config);
  // The API starts without Temporal: deliveries wait in its journal until Temporal answers.
  const client = lazyClient(config);
  const server = await startApi(config, client, logger);
  onShutdownSignal(async (signal) => {
    logger.info('stopping api', { signal });
    await server.close();
    await client.connection.close();
    await tracing.shutdown();
  });
}

main().catch(exitOnStartupError);
