// Runs a command a project configures (tests, build, deploy, rollback) with `sh -c` in a
// directory, in its own process group so a cancellation or timeout stops all of it, with an
// environment that carries none of the orchestrator's secrets. A command that ends normally
// keeps what it started: a deploy command may leave a service behind on purpose, and killing the
// group at that moment would race a `setsid` that has not detached yet.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxSettings } from '../config/projects';
import type { DeniedConnection } from '../sandbox/egress-proxy';
import { prepareSandbox, type PreparedSandbox } from '../sandbox/sandbox';
import { loadExeca } from '../util/execa';
import { redactUrls } from './git/repository';

export interface CommandRun {
  readonly exitCode: number | undefined;
  readonly timedOut: boolean;
  /** The last lines of stdout and stderr together. */
  readonly tail: string;
}

const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
] as const;

export function commandEnvironment(
  extra: Record<string, string> = {},
  worker: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = worker[name];
    if (value) env[name] = value;
  }
  return { ...env, CI: 'true', ...extra };
}

/** Where a command runs agent-written code: in the agent sandbox, with the project's settings. */
export interface CommandSandbox {
  readonly bwrap: string;
  readonly settings: SandboxSettings;
  /** A unique name for the run's cgroup. */
  readonly name: string;
  onDenied(denied: DeniedConnection): void;
}

export async function runProjectCommand(
  command: string,
  cwd: string,
  options: {
    signal?: AbortSignal;
    timeoutMs?: number;
    env?: Record<string, string>;
    tailLines?: number;
    sandbox?: CommandSandbox;
  } = {},
): Promise<CommandRun> {
  const { execa } = await loadExeca();
  const env = commandEnvironment(options.env);
  const sandbox = options.sandbox ? await sandboxFor(command, cwd, env, options.sandbox) : undefined;
  try {
    return await run(execa, sandbox?.file ?? 'sh', sandbox?.args ?? ['-c', command], sandbox?.env ?? env, cwd, options);
  } finally {
    await sandbox?.close();
  }
}

/**
 * The command in the agent sandbox: its checkout writable (`.git` read-only), a HOME of its own,
 * the project's allowed hosts and no model API. The run's scratch space goes with it.
 */
async function sandboxFor(
  command: string,
  cwd: string,
  env: Record<string, string>,
  sandbox: CommandSandbox,
): Promise<PreparedSandbox> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cmd-'));
  const home = path.join(scratch, 'home');
  fs.mkdirSync(home);
  const prepared = await prepareSandbox({
    bwrap: sandbox.bwrap,
    runDir: path.join(scratch, 'run'),
    workspace: cwd,
    home,
    toolchains: sandbox.settings.readOnlyPaths,
    program: '/bin/sh',
    bindProgram: false,
    args: ['-c', command],
    env: { ...env, HOME: home },
    egress: { modelHeaders: {}, allowHosts: sandbox.settings.allowHosts },
    limits: { memoryMb: sandbox.settings.memoryMb, maxProcesses: sandbox.settings.maxProcesses },
    name: sandbox.name,
    onDenied: (denied) => sandbox.onDenied(denied),
  });
  return {
    ...prepared,
    close: async () => {
      await prepared.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

async function run(
  execa: Awaited<ReturnType<typeof loadExeca>>['execa'],
  file: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  options: { signal?: AbortSignal; timeoutMs?: number; tailLines?: number },
): Promise<CommandRun> {
  const child = execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    detached: true,
    reject: false,
    all: true,
    stdin: 'ignore',
    maxBuffer: 16 * 1024 * 1024,
  });
  const stopGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  let timedOut = false;
  const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), stopGroup()), options.timeoutMs) : undefined;
  options.signal?.addEventListener('abort', stopGroup, { once: true });
  try {
    const result = await child;
    const lines = String(result.all ?? '')
      .trimEnd()
      .split('\n');
    return {
      exitCode: result.exitCode,
      timedOut,
      tail: redactUrls(lines.slice(-(options.tailLines ?? 40)).join('\n')),
    };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', stopGroup);
  }
}
