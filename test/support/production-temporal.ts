// The production Temporal server for `npm run test:production`, through the very script a person
// and compose use (scripts/production-temporal.sh): a private PostgreSQL, the schema, the real
// server with the project's production config, the namespaces. The server runs as a child the
// test can kill -9 and start again on the same database.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveTool } from '../../src/config/paths';

const SCRIPT = path.resolve(__dirname, '../../scripts/production-temporal.sh');

export interface ProductionTemporal {
  readonly address: string;
  readonly stateDir: string;
  /** SIGKILL, as a crashed host would. */
  kill(): Promise<void>;
  /** Starts the server again on the same database and waits until it answers. */
  start(): Promise<void>;
  /** Stops the server and PostgreSQL. */
  close(): Promise<void>;
}

async function script(command: string, stateDir: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [SCRIPT, command, stateDir], {
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  return stdout;
}

/**
 * What a worker process of the production tests runs with: the production server, the test's
 * projects file and the scripted model (the real CLI talks to it), logs at info.
 */
export function scriptedWorkerEnv(address: string, dir: string, modelUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH as string,
    TEMPORAL_ADDRESS: address,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key',
    ORCH_AGENT_MODEL: 'claude-scripted',
    ORCH_LOG_LEVEL: 'info',
  };
}

export interface ProductionTemporalOptions {
  /** The server's own environment (its TLS: TEMPORAL_SERVER_TLS_*). */
  readonly server?: Record<string, string>;
  /** What a client needs to reach it (the temporal CLI's TEMPORAL_TLS_* variables). */
  readonly client?: Record<string, string>;
}

export async function startProductionTemporal(options: ProductionTemporalOptions = {}): Promise<ProductionTemporal> {
  const client = options.client ?? {};
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-production-'));
  await script('init', stateDir);
  await script('postgres', stateDir);
  await script('schema', stateDir);
  const address = /TEMPORAL_ADDRESS=(\S+)/.exec(await script('env', stateDir))?.[1] as string;
  const log = path.join(stateDir, 'server.log');
  let server: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const out = fs.openSync(log, 'a');
    server = spawn('bash', [SCRIPT, 'server', stateDir], {
      stdio: ['ignore', out, out],
      env: { ...process.env, ...options.server },
    });
    fs.closeSync(out);
    const deadline = Date.now() + 90_000;
    while (!(await healthy(address, client))) {
      if (server.exitCode !== null || Date.now() > deadline)
        throw new Error(`the Temporal server did not start:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const kill = async (): Promise<void> => {
    const child = server;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  await script('namespaces', stateDir, client);
  return {
    address,
    stateDir,
    kill,
    start,
    async close() {
      await kill();
      await script('down', stateDir).catch(() => undefined);
    },
  };
}

async function healthy(address: string, client: Record<string, string>): Promise<boolean> {
  try {
    await promisify(execFile)(resolveTool('temporal'), ['operator', 'cluster', 'health', '--address', address], {
      env: { ...process.env, ...client },
    });
    return true;
  } catch {
    return false;
  }
}
