// Runs a command a project configures (tests, build, deploy, rollback) with `sh -c` in a
// directory, in its own process group so a cancellation or timeout stops all of it, with an
// environment that carries none of the orchestrator's secrets. A command that ends normally
// keeps what it started: a deploy command may leave a service behind on purpose, and killing the
// group at that moment would race a `setsid` that has not detached yet.
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

export async function runProjectCommand(
  command: string,
  cwd: string,
  options: { signal?: AbortSignal; timeoutMs?: number; env?: Record<string, string>; tailLines?: number } = {},
): Promise<CommandRun> {
  const { execa } = await loadExeca();
  const child = execa('sh', ['-c', command], {
    cwd,
    env: commandEnvironment(options.env),
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
