// How often a long activity heartbeats: well inside the heartbeat timeout the workflow gave it
// (a third of it), so a busy machine does not make a live activity look dead, and no more often
// than needed when the timeout is long.
import { activityInfo } from '@temporalio/activity';

export function heartbeatEveryMs(atMostMs: number): number {
  const timeout = activityInfo().heartbeatTimeoutMs;
  return timeout ? Math.max(100, Math.min(atMostMs, Math.floor(timeout / 3))) : atMostMs;
}
