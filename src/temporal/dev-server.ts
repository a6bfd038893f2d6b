// Runs `temporal server start-dev` with its state in a file, so work items survive restarts.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../util/logger';
import { loadExeca } from '../util/execa';
import { portOpen } from '../util/net';
import { ensureSearchAttributes } from './search-attributes';
import { dieWithParentPrefix, pidFileOf, recordServerPid, stopLeftoverServer } from './dev-server-leftover';
import { connectGuarded } from './closed-channel-guard';

/**
 * Dispatch settings for one machine: the history service's transfer queue is polled far more
 * often than the default, so a workflow or activity task is dispatched in a few ms instead of
 * ~45 ms; an activity round trip drops from ~100 ms to ~20 ms. Costs nothing measurable when
 * idle (docs/performance.md). Used by npm start, the demo, the bench and the tests.
 */
export const ONE_MACHINE_DISPATCH = ['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=10000'];

/**
 * Task queue fairness and priority (ADR-0021): claims of host slots are dispatched by the item's
 * priority key, then fairly between projects (fairness keys). One partition per queue: on one
 * machine more partitions only spread a small backlog where fairness cannot see all of it.
 */
export const FAIR_DISPATCH = [
  '--dynamic-config-value',
  'matching.enableFairness=true',
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
];

export interface DevServerOptions {
  readonly binary: string;
  readonly dataDir: string;
  readonly ip: string;
  readonly port: number;
  readonly uiPort: number;
  readonly namespace: string;
  readonly logger: Logger;
  readonly startTimeoutMs?: number;
  /** Temporal's default dispatch settings instead of ONE_MACHINE_DISPATCH (the bench compares both). */
  readonly defaultDispatch?: boolean;
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  readonly dbFile: string;
  /** The server process (the bench reads its CPU time and memory). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { execa } = await loadExeca();
  fs.mkdirSync(options.dataDir, { recursive: true });
  const dbFile = path.join(options.dataDir, 'temporal.db');
  const freshDatabase = !fs.existsSync(dbFile);
  const address = `${options.ip}:${options.port}`;
  if (await stopLeftoverServer(dbFile))
    options.logger.warn('stopped the dev server a killed start left running on this database', { dbFile });
  if (await portOpen(options.ip, options.port)) {
    throw new Error(
      `port ${address} is already in use: is another Temporal server running? Stop it or set TEMPORAL_ADDRESS/ORCH_* ports`,
    );
  }
  const logFile = path.join(options.dataDir, 'temporal-server.log');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    options.ip,
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    ...(options.defaultDispatch ? [] : ONE_MACHINE_DISPATCH),
    ...FAIR_DISPATCH,
  ];
  const [file, ...prefixArgs] = [...dieWithParentPrefix(), options.binary, ...args] as [string, ...string[]];
  const child = execa(file, prefixArgs, {
    stdin: 'ignore',
    stdout: { file: logFile },
    stderr: { file: logFile },
    reject: false,
    cleanup: true,
  });
  recordServerPid(dbFile, child.pid);
  let exited = false;
  void child.then(() => (exited = true));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await portOpen(options.ip, options.port))) {
    if (exited) throw new Error(`temporal dev server exited during start-up; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`temporal dev server did not listen on ${address} in time; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const created = await registerSearchAttributes(address, options.namespace);
  if (created.length > 0) options.logger.info("registered the work items' search attributes", { created });
  options.logger.info('temporal dev server ready', { address, dbFile, freshDatabase });

  return {
    address,
    uiUrl: `http://${options.ip}:${options.uiPort}`,
    dbFile,
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await child;
      clearTimeout(timer);
      fs.rmSync(pidFileOf(dbFile), { force: true });
    },
  };
}

/** The worker's own registration (it runs again at the worker's start), so items can be listed before one starts. */
export async function registerSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await connectGuarded(address);
  try {
    return await ensureSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
}
