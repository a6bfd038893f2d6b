// One run of the Claude Code CLI as a child process: inside its sandbox (src/sandbox) unless
// ORCH_AGENT_SANDBOX=off, spawned detached (its own process group) with a built environment and
// the session marker, its stream-json output folded line by line, stopped with everything it
// started on cancellation, on rejected credentials, at a limit, and at its end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CancelledFailure } from '@temporalio/common';
import type { AppConfig } from '../../config';
import type { SandboxSettings } from '../../config/projects';
import { prepareSandbox, type PreparedSandbox } from '../../sandbox/sandbox';
import type { DeniedConnection } from '../../sandbox/egress-proxy';
import { loadExeca } from '../../util/execa';
import { redactUrls } from '../git/repository';
import { classifyRun, credentialsRejected, type AgentOutcome } from './classify';
import { agentEnvironment, claudeBinary, modelEgress } from './command';
import { AGENT_SESSION_VAR, stopAgentProcesses } from './process-group';
import { newStreamState, readStreamLine, type StreamState } from './stream';

export interface CliRun {
  readonly config: AppConfig;
  /** The CLI's HOME, where it keeps its sessions. */
  readonly home: string;
  readonly sessionId: string;
  readonly cwd: string;
  readonly args: string[];
  readonly prompt: string;
  readonly signal: AbortSignal;
  /** The project's sandbox; undefined runs the CLI with the worker's own access (ORCH_AGENT_SANDBOX=off). */
  readonly sandbox?: { readonly settings: SandboxSettings; onDenied(denied: DeniedConnection): void };
  onProgress(stream: StreamState, pid: number): void;
}

export async function runCli(run: CliRun): Promise<{ stream: StreamState; outcome: AgentOutcome }> {
  const { execa } = await loadExeca();
  fs.mkdirSync(run.home, { recursive: true });
  const stream = newStreamState();
  const binary = claudeBinary(run.config.env);
  const env = { ...agentEnvironment(run.config.env, run.home), [AGENT_SESSION_VAR]: run.sessionId };
  if (run.sandbox && !fs.existsSync(binary)) {
    return { stream, outcome: classifyRun({ spawnErrorCode: 'ENOENT', stderrTail: '', stream }) };
  }
  const sandbox = run.sandbox ? await launchSandbox(run, binary, env) : undefined;
  const child = execa(sandbox?.file ?? binary, sandbox?.args ?? run.args, {
    cwd: run.cwd,
    env: sandbox?.env ?? env,
    extendEnv: false,
    // Its own process group: killing -pid reaches every process the agent started.
    detached: true,
    input: run.prompt,
    reject: false,
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 1024 * 1024 },
  });
  const pid = child.pid;
  let killing: Promise<void> | undefined;
  let limit: string | undefined;
  const stop = (): void => {
    killing ??= stopAgentProcesses(run.sessionId, pid);
  };
  const stopAtLimit = (reason: string): void => {
    limit ??= reason;
    stop();
  };
  const wallMinutes = run.sandbox?.settings.wallMinutes;
  const wallTimer = wallMinutes ? setTimeout(() => stopAtLimit(`the agent run was stopped after its wall time of ${wallMinutes} minutes (agents.sandbox.wallMinutes)`), wallMinutes * 60_000) : undefined;
  const stopWatch = sandbox && pid !== undefined ? sandbox.watch(pid, (breach) => stopAtLimit(`the agent run was stopped: ${breach.detail} (agents.sandbox.${breach.limit === 'memory' ? 'memoryMb' : 'maxProcesses'})`)) : undefined;
  if (pid !== undefined) run.onProgress(stream, pid);
  run.signal.addEventListener('abort', stop, { once: true });
  if (run.signal.aborted) stop();
  try {
    if (child.stdout) {
      for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
        readStreamLine(stream, line);
        if (pid !== undefined) run.onProgress(stream, pid);
        // The CLI retries a rejected key for minutes; nothing will change by waiting.
        if (credentialsRejected(stream)) stop();
      }
    }
    const result = await child;
    await killing;
    if (run.signal.aborted) throw new CancelledFailure('agent run cancelled; its process group was killed');
    const kernelBreach = sandbox?.breach();
    if (kernelBreach) limit ??= `the agent run was stopped: ${kernelBreach.detail} (agents.sandbox.memoryMb)`;
    if (limit) return { stream, outcome: { kind: 'limit', message: limit } };
    const spawnErrorCode = (result as { code?: string }).code;
    return {
      stream,
      outcome: classifyRun({
        spawnErrorCode: result.failed && result.exitCode === undefined ? spawnErrorCode : undefined,
        exitCode: result.exitCode,
        signal: result.signal,
        stderrTail: redactUrls(String(result.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('Warning:')).slice(-3).join(' | ')),
        stream,
      }),
    };
  } finally {
    if (wallTimer) clearTimeout(wallTimer);
    stopWatch?.();
    run.signal.removeEventListener('abort', stop);
    // Whatever happened, nothing the agent started outlives its run.
    await (killing ?? stopAgentProcesses(run.sessionId, pid));
    await sandbox?.close();
  }
}

function launchSandbox(run: CliRun, binary: string, env: Record<string, string>): Promise<PreparedSandbox> {
  const settings = run.sandbox?.settings as SandboxSettings;
  return prepareSandbox({
    bwrap: run.config.env.ORCH_BWRAP_BIN,
    // Short and private: a Unix socket's path may not exceed 107 bytes.
    runDir: fs.mkdtempSync(path.join(os.tmpdir(), 'orch-sbx-')),
    workspace: run.cwd,
    home: run.home,
    toolchains: settings.readOnlyPaths,
    program: binary,
    args: run.args,
    env,
    egress: { ...modelEgress(run.config.env), allowHosts: settings.allowHosts },
    limits: { memoryMb: settings.memoryMb, maxProcesses: settings.maxProcesses },
    // Unique per attempt: a crashed attempt's empty group may still be there.
    name: `${run.sessionId}-${process.pid}-${Date.now()}`,
    onDenied: (denied) => run.sandbox?.onDenied(denied),
  });
}
