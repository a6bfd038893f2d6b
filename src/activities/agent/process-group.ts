// The CLI runs in its own process group (spawned detached) so that stopping it stops everything
// it started: the Bash tool's shells, test runners, dev servers. A group a crashed worker left
// behind is found again from the pid the earlier attempt heartbeated.
import fs from 'node:fs';

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
 * Whether `pid` still is the CLI we started: pids are reused, and killing a stranger's group
 * would be far worse than leaving a leftover. Where /proc is missing, the command line cannot be
 * checked and the group is left alone.
 */
export function isOurAgent(pid: number, marker: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the group is gone. */
export async function killGroup(pid: number, graceMs = 3000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < hardDeadline) await sleep(50);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
