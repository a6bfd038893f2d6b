// Another process's CPU time and resident memory, read from /proc (Linux), for the bench's notes.
import fs from 'node:fs';

/** CPU time (user + system) the process has used, in ms; 0 when it is unknown or gone. */
export function cpuMs(pid: number | undefined): number {
  const stat = read(pid, 'stat');
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
}

/** Resident memory of the process, in bytes; 0 when it is unknown or gone. */
export function rssBytes(pid: number | undefined): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(read(pid, 'status'));
  return match ? Number(match[1]) * 1024 : 0;
}

function read(pid: number | undefined, file: string): string {
  if (pid === undefined) return '';
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}
