// A dev server outlives an `npm start` that was killed with SIGKILL unless something ends it. Two
// walls: the server is started under `setpriv --pdeathsig SIGKILL` (it dies with its parent), and
// its pid is written next to its database, so the next start finds a leftover of its own and
// stops it instead of failing on a busy port. Only a process that is a `temporal server
// start-dev` on this very database file is ever stopped.
import fs from 'node:fs';

export function pidFileOf(dbFile: string): string {
  return `${dbFile}.pid`;
}

/** The command prefix that makes the child die with this process, where util-linux has setpriv. */
export function dieWithParentPrefix(exists: (file: string) => boolean = fs.existsSync): string[] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(exists);
  return setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', '--'] : [];
}

/** Stops the dev server a killed start left on `dbFile`; true when there was one. */
export async function stopLeftoverServer(dbFile: string): Promise<boolean> {
  const pidFile = pidFileOf(dbFile);
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return false;
  }
  const ours =
    Number.isInteger(pid) && pid > 1 && commandLine(pid).includes('start-dev') && commandLine(pid).includes(dbFile);
  if (ours) {
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (commandLine(pid) !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (commandLine(pid) !== '') signal(pid, 'SIGKILL');
    while (commandLine(pid) !== '' && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 100));
  }
  fs.rmSync(pidFile, { force: true });
  return ours;
}

export function recordServerPid(dbFile: string, pid: number | undefined): void {
  if (pid !== undefined) fs.writeFileSync(pidFileOf(dbFile), `${pid}\n`);
}

/** The process's command line, '' when it is gone (or a zombie). */
function commandLine(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return '';
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}
