// Memory and process-count limits of one sandbox. The kernel enforces them through a cgroup made
// for the run (cgroup v2, or the v1 `pids` and `memory` hierarchies) when the worker may create
// one: a root worker, or one given a delegated cgroup v2 subtree (ORCH_SANDBOX_CGROUP_ROOT). Elsewhere a
// watchdog counts the sandbox's processes and their memory twice a second and stops the sandbox
// past a limit: the same limits, enforced a little later.
import fs from 'node:fs';
import path from 'node:path';

export interface ResourceLimits {
  readonly memoryMb: number;
  readonly maxProcesses: number;
}

/** What the run was stopped for, when a limit stopped it. */
export interface LimitBreach {
  readonly limit: 'memory' | 'processes';
  readonly detail: string;
}

export interface RunCgroup {
  readonly kind: 'cgroup2' | 'cgroup1';
  /** The `cgroup.procs` files a process writes its pid into to join (one per hierarchy). */
  readonly procsFiles: readonly string[];
  /** A breach the kernel recorded (an OOM kill), once the run is over. */
  breach(): LimitBreach | undefined;
  remove(): void;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const GROUP_PARENT = 'orch-agents';

/** A cgroup for one run, or undefined where none can be made (the watchdog takes over). */
export function createRunCgroup(
  name: string,
  limits: ResourceLimits,
  root = process.env.ORCH_SANDBOX_CGROUP_ROOT,
): RunCgroup | undefined {
  try {
    if (fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers')))
      return createV2(root ?? path.join(CGROUP_ROOT, GROUP_PARENT), name, limits);
    if (fs.existsSync(path.join(CGROUP_ROOT, 'pids')) && fs.existsSync(path.join(CGROUP_ROOT, 'memory')))
      return createV1(name, limits);
  } catch {
    // Not permitted here (no root, no delegation): the watchdog enforces the limits.
  }
  return undefined;
}

function createV2(parent: string, name: string, limits: ResourceLimits): RunCgroup {
  fs.mkdirSync(parent, { recursive: true });
  removeEmptyGroups(parent);
  // The parent hands its pids and memory controllers down to the run's group.
  fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+pids +memory');
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  try {
    fs.writeFileSync(path.join(dir, 'pids.max'), String(limits.maxProcesses));
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limits.memoryMb * 1024 * 1024));
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } catch (err) {
    if (!fs.existsSync(path.join(dir, 'pids.max'))) {
      fs.rmdirSync(dir);
      throw err;
    }
  }
  return {
    kind: 'cgroup2',
    procsFiles: [path.join(dir, 'cgroup.procs')],
    breach: () => (eventCount(path.join(dir, 'memory.events'), 'oom_kill') > 0 ? memoryBreach(limits) : undefined),
    remove: () => removeGroup(dir, path.join(dir, 'cgroup.kill')),
  };
}

function createV1(name: string, limits: ResourceLimits): RunCgroup {
  const pidsDir = path.join(CGROUP_ROOT, 'pids', GROUP_PARENT, name);
  const memoryDir = path.join(CGROUP_ROOT, 'memory', GROUP_PARENT, name);
  removeEmptyGroups(path.dirname(pidsDir));
  removeEmptyGroups(path.dirname(memoryDir));
  fs.mkdirSync(pidsDir, { recursive: true });
  try {
    fs.mkdirSync(memoryDir, { recursive: true });
    fs.writeFileSync(path.join(pidsDir, 'pids.max'), String(limits.maxProcesses));
    fs.writeFileSync(path.join(memoryDir, 'memory.limit_in_bytes'), String(limits.memoryMb * 1024 * 1024));
  } catch (err) {
    removeGroup(pidsDir);
    removeGroup(memoryDir);
    throw err;
  }
  return {
    kind: 'cgroup1',
    procsFiles: [path.join(pidsDir, 'cgroup.procs'), path.join(memoryDir, 'cgroup.procs')],
    breach: () =>
      eventCount(path.join(memoryDir, 'memory.oom_control'), 'oom_kill') > 0 ? memoryBreach(limits) : undefined,
    remove: () => {
      removeGroup(pidsDir);
      removeGroup(memoryDir);
    },
  };
}

/**
 * Groups of runs whose worker died before removing them. A group's name ends in
 * `-<worker pid>-<time>`: a live worker's groups are its own to remove (one may be empty for a
 * moment, made but not yet joined), and a group with members stays anyway.
 */
function removeEmptyGroups(parent: string): void {
  if (!fs.existsSync(parent)) return;
  for (const entry of fs.readdirSync(parent, { withFileTypes: true })) {
    const owner = /-(\d+)-\d+$/.exec(entry.name)?.[1];
    if (!entry.isDirectory() || owner === undefined || processAlive(Number(owner))) continue;
    try {
      fs.rmdirSync(path.join(parent, entry.name));
    } catch {
      // Still has members, or not ours to remove.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function memoryBreach(limits: ResourceLimits): LimitBreach {
  return {
    limit: 'memory',
    detail: `a process was killed for using more than the sandbox's ${limits.memoryMb} MB of memory`,
  };
}

/** `key N` lines of a cgroup events file. */
function eventCount(file: string, key: string): number {
  try {
    const line = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(' ')[1]) : 0;
  } catch {
    return 0;
  }
}

/** Kills what is left in a group and removes it (a group with members cannot be removed). */
function removeGroup(dir: string, killFile?: string): void {
  if (!fs.existsSync(dir)) return;
  try {
    if (killFile && fs.existsSync(killFile)) fs.writeFileSync(killFile, '1');
    else for (const pid of readPids(path.join(dir, 'cgroup.procs'))) killQuietly(pid);
  } catch {
    // Gone already.
  }
  for (let i = 0; i < 50; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch {
      // Members still exiting: wait a moment (bounded).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Where no cgroup could be made: counts the processes in the sandbox's PID namespace and their
 * resident memory every `intervalMs`, and calls `onBreach` once when a limit is passed.
 */
export function watchLimits(
  sandboxPid: number,
  limits: ResourceLimits,
  onBreach: (breach: LimitBreach) => void,
  intervalMs = 500,
): () => void {
  let namespace: string | undefined;
  let reported = false;
  const pageBytes = 4096;
  const timer = setInterval(() => {
    namespace ??= innerNamespace(sandboxPid);
    if (!namespace || reported) return;
    let processes = 0;
    let rssBytes = 0;
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (fs.readlinkSync(`/proc/${name}/ns/pid`) !== namespace) continue;
        processes += 1;
        rssBytes += Number(fs.readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]) * pageBytes;
      } catch {
        // Exited while we looked.
      }
    }
    if (processes > limits.maxProcesses) {
      reported = true;
      onBreach({
        limit: 'processes',
        detail: `the sandbox ran ${processes} processes, more than its limit of ${limits.maxProcesses}`,
      });
    } else if (rssBytes > limits.memoryMb * 1024 * 1024) {
      reported = true;
      onBreach({
        limit: 'memory',
        detail: `the sandbox used ${Math.round(rssBytes / 1024 / 1024)} MB, more than its limit of ${limits.memoryMb} MB`,
      });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The PID namespace of bubblewrap's child (the sandbox's init), once it exists. */
function innerNamespace(bwrapPid: number): string | undefined {
  const outer = safeReadlink(`/proc/${bwrapPid}/ns/pid`);
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== bwrapPid) continue;
      const ns = safeReadlink(`/proc/${name}/ns/pid`);
      if (ns && ns !== outer) return ns;
    } catch {
      // Exited while we looked.
    }
  }
  return undefined;
}

function safeReadlink(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}
