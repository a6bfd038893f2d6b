// Stopping an agent run stops everything it started. The CLI is spawned detached (its own
// process group) with a marker variable naming the run's session; the Bash tool starts its
// shells in groups of their own with an environment of its making, which carries the session id
// as CLAUDE_CODE_SESSION_ID, and `nohup cmd &` outlives its shell. So the markers, not the group,
// are what find them all. A run a crashed worker left behind is
// found the same way by the next attempt.
import fs from 'node:fs';

/** Set in the CLI's environment; inherited by all it starts. */
export const AGENT_SESSION_VAR = 'ORCH_AGENT_SESSION';

/** Pids of live processes carrying the marker of `sessionId` (empty where /proc is missing). */
export function processesOfSession(sessionId: string): number[] {
  const markers = [`${AGENT_SESSION_VAR}=${sessionId}\0`, `CLAUDE_CODE_SESSION_ID=${sessionId}\0`];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    if (pid === process.pid) return false;
    try {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
      return markers.some((marker) => environ.includes(marker));
    } catch {
      return false;
    }
  });
}

/** True while any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which is not ours to kill.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGTERM to the CLI's group and every marked process, SIGKILL to what is left after `graceMs`;
 * resolves once all are gone (or after a last bounded wait).
 */
export async function stopAgentProcesses(sessionId: string, leader?: number, graceMs = 3000): Promise<void> {
  const remaining = (): boolean =>
    (leader !== undefined && groupAlive(leader)) || processesOfSession(sessionId).length > 0;
  const marked = signalAll(sessionId, leader, 'SIGTERM');
  // The usual end of a run: its group is gone and nothing marked was found, so nothing is left
  // that could start another process (and /proc is not read a second time).
  if (marked === 0 && (leader === undefined || !groupAlive(leader))) return;
  const deadline = Date.now() + graceMs;
  while (remaining() && Date.now() < deadline) await sleep(50);
  if (!remaining()) return;
  signalAll(sessionId, leader, 'SIGKILL');
  const hardDeadline = Date.now() + 5000;
  while (remaining() && Date.now() < hardDeadline) await sleep(50);
}

/** Signals the group and every marked process; how many marked processes there were. */
function signalAll(sessionId: string, leader: number | undefined, signal: NodeJS.Signals): number {
  if (leader !== undefined) send(-leader, signal);
  const marked = processesOfSession(sessionId);
  for (const pid of marked) send(pid, signal);
  return marked.length;
}

function send(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * CPU time (user + system clock ticks) used so far by each of the session's marked processes that
 * `isTool` accepts (the commands the agent's tools started, not the CLI itself), by pid.
 */
export function cpuTicksOfSession(sessionId: string, isTool: (cmdline: string) => boolean): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of processesOfSession(sessionId)) {
    try {
      if (!isTool(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' '))) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // Exited while we looked.
    }
  }
  return ticks;
}
