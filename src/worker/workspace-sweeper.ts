// Runs the expired-workspace sweep on this host: once at start, then daily. In process, not a
// Temporal Schedule: a schedule's activity would run on one host of the fleet, while each host
// holds its own checkouts (ADR-0021).
import type { Client } from '@temporalio/client';
import { sweepExpiredWorkspaces } from '../activities/workspace/sweep';
import type { Logger } from '../util/logger';

const DAY_MS = 24 * 60 * 60 * 1000;

export function startWorkspaceSweeper(
  client: Client,
  options: { readonly dataDir: string; readonly retentionDays: number; readonly logger: Logger },
): { stop(): void } {
  if (options.retentionDays <= 0) {
    options.logger.info('expired workspaces are not swept (ORCH_WORKSPACE_RETENTION_DAYS=0)');
    return { stop: () => undefined };
  }
  let running: Promise<void> | undefined;
  const sweep = (): void => {
    if (running) return;
    running = sweepExpiredWorkspaces(client, { dataDir: options.dataDir, retentionMs: options.retentionDays * DAY_MS })
      .then((result) => {
        if (result.removed.length > 0)
          options.logger.info('removed the checkouts of items ended long ago', {
            removed: result.removed,
            retentionDays: options.retentionDays,
          });
      })
      .catch((err: unknown) => {
        // The next sweep tries again; a checkout left a day longer costs only disk.
        options.logger.warn('workspace sweep failed', { reason: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, DAY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
