// Routes the Temporal SDK's own logs (worker, workflow sandbox, core) into our structured logger,
// and turns on the SDK's Prometheus exporter (task slots, schedule-to-start latency, polls) on a
// loopback address when asked; the worker's /metrics serves that text next to its own.
import { Runtime, type LogLevel as SdkLogLevel, type LogMetadata, type Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from '../util/logger';
import { freePort } from '../util/net';

/** Where the SDK's exporter serves, once installRuntime turned it on (the Runtime is one per process). */
let sdkMetrics: string | undefined;

export function sdkMetricsUrl(): string | undefined {
  return sdkMetrics;
}

export async function installRuntime(logger: Logger, options: { readonly sdkMetrics?: boolean } = {}): Promise<void> {
  const address = options.sdkMetrics ? `127.0.0.1:${await freePort()}` : undefined;
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
  Runtime.install({
    logger: sdkLogger,
    ...(address
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: address, useSecondsForDurations: true } } } }
      : {}),
  });
  if (address) sdkMetrics = `http://${address}/metrics`;
}
