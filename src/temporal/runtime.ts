// Routes the Temporal SDK's own logs (worker, workflow sandbox, core) into our structured logger.
import { Runtime, type LogLevel as SdkLogLevel, type LogMetadata, type Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from '../util/logger';

export function installRuntime(logger: Logger): void {
  const forward = (level: SdkLogLevel, message: string, meta?: LogMetadata): void => {
    const fields = { ...(meta as Record<string, unknown>), component: 'temporal-sdk' };
    if (level === 'ERROR') logger.error(message, fields);
    else if (level === 'WARN') logger.warn(message, fields);
    else if (level === 'INFO') logger.info(message, fields);
    else logger.debug(message, fields);
  };
  const sdkLogger: SdkLogger = {
    log: forward,
    trace: (m, meta) => forward('TRACE', m, meta),
    debug: (m, meta) => forward('DEBUG', m, meta),
    info: (m, meta) => forward('INFO', m, meta),
    warn: (m, meta) => forward('WARN', m, meta),
    error: (m, meta) => forward('ERROR', m, meta),
  };
  Runtime.install({ logger: sdkLogger });
}
