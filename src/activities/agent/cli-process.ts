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
import { AGENT_SESSION_VAR, cpuTicksOfSession, stopAgentProcesses } from './process-group';
import { RunWatch, type WatchLimits } from './run-watch';
import { workspaceFingerprint } from '../workspace/fingerprint';
import { INSIDE } from '../../sandbox/bwrap-args';
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
  /** Wall time of this run (agents.maxMinutes of the role). */
  readonly maxMinutes: number;
  /** Stall and loop detection (agents.stallMs, maxRepeats, maxTurnsWithoutChange). */
  readonly watch: WatchLimits;
  /** The role, for findings. */
  readonly role: string;
  onProgress(stream: StreamState, pid: number, watch: RunWatch): void;
}

export type RunEndOutcome =
  | AgentOutcome
  | { readonly kind: 'stall'; readonly message: string }
  | { readonly kind: 'loop'; readonly message: string };

export async function runCli(run: CliRun): Promise<{ stream: StreamState; outcome: RunEndOutcome }> {
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
  /** Why the runner itself stopped the run (a limit, a stall, a loop), first reason wins. */
  let stoppedFor: RunEndOutcome | undefined;
  const stop = (): void => {
    killing ??= stopAgentProcesses(run.sessionId, pid);
  };
  const stopBecause = (outcome: RunEndOutcome): void => {
    stoppedFor ??= outcome;
    stop();
  };
  const wallTimer = setTimeout(
    () =>
      stopBecause({
        kind: 'limit',
        message: `the ${run.role} agent was stopped after its wall time of ${run.maxMinutes} minutes (agents.maxMinutes.${run.role})`,
      }),
    run.maxMinutes * 60_000,
  );
  const stopWatch =
    sandbox && pid !== undefined
      ? sandbox.watch(pid, (breach) =>
          stopBecause({
            kind: 'limit',
            message: `the agent run was stopped: ${breach.detail} (agents.sandbox.${breach.limit === 'memory' ? 'memoryMb' : 'maxProcesses'})`,
          }),
        )
      : undefined;
  const watch = new RunWatch(
    run.watch,
    {
      fingerprint: () => workspaceFingerprint(run.cwd),
      toolCpuTicks: () => cpuTicksOfSession(run.sessionId, (cmd) => isToolProcess(cmd, binary)),
      now: Date.now,
    },
    run.role,
  );
  const stallTimer = setInterval(
    () => {
      const stalled = watch.checkStall(stream);
      if (stalled?.kind === 'stall') stopBecause({ kind: 'stall', message: stalled.message });
    },
    Math.max(50, Math.min(1000, Math.floor(run.watch.stallMs / 4))),
  );
  if (pid !== undefined) run.onProgress(stream, pid, watch);
  run.signal.addEventListener('abort', stop, { once: true });
  if (run.signal.aborted) stop();
  try {
    if (child.stdout) {
      for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
        readStreamLine(stream, line);
        const verdict = stoppedFor ? undefined : await watch.onEvent(stream);
        if (verdict?.kind === 'loop') stopBecause({ kind: 'loop', message: verdict.finding });
        if (pid !== undefined) run.onProgress(stream, pid, watch);
        // The CLI retries a rejected key for minutes; nothing will change by waiting.
        if (credentialsRejected(stream)) stop();
      }
    }
    const result = await child;
    await killing;
    if (run.signal.aborted) throw new CancelledFailure('agent run cancelled; its process group was killed');
    const kernelBreach = sandbox?.breach();
    if (kernelBreach)
      stoppedFor ??= {
        kind: 'limit',
        message: `the agent run was stopped: ${kernelBreach.detail} (agents.sandbox.memoryMb)`,
      };
    if (stoppedFor) return { stream, outcome: stoppedFor };
    const spawnErrorCode = (result as { code?: string }).code;
    return {
      stream,
      outcome: classifyRun({
        spawnErrorCode: result.failed && result.exitCode === undefined ? spawnErrorCode : undefined,
        exitCode: result.exitCode,
        signal: result.signal,
        stderrTail: redactUrls(
          String(result.stderr ?? '')
            .trim()
            .split('\n')
            .filter((l) => !l.startsWith('Warning:'))
            .slice(-3)
            .join(' | '),
        ),
        stream,
      }),
    };
  } finally {
    clearTimeout(wallTimer);
    clearInterval(stallTimer);
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

/** A process the agent's tools started: not the CLI, nor the sandbox's own relay and launcher. */
function isToolProcess(cmdline: string, binary: string): boolean {
  return !(cmdline.startsWith(INSIDE.root) || cmdline.startsWith(binary) || /^(\S*\/)?bwrap /.test(cmdline));
}
