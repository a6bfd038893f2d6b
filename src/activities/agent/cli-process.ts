// One run of the Claude Code CLI as a child process: spawned detached (its own process group)
// with a built environment and the session marker, its stream-json output folded line by line,
// stopped with everything it started on cancellation, on rejected credentials, and at its end.
import fs from 'node:fs';
import readline from 'node:readline';
import { CancelledFailure } from '@temporalio/common';
import type { AppConfig } from '../../config';
import { loadExeca } from '../../util/execa';
import { redactUrls } from '../git/repository';
import { classifyRun, credentialsRejected, type AgentOutcome } from './classify';
import { agentEnvironment, claudeBinary } from './command';
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
  onProgress(stream: StreamState, pid: number): void;
}

export async function runCli(run: CliRun): Promise<{ stream: StreamState; outcome: AgentOutcome }> {
  const { execa } = await loadExeca();
  fs.mkdirSync(run.home, { recursive: true });
  const stream = newStreamState();
  const child = execa(claudeBinary(run.config.env), run.args, {
    cwd: run.cwd,
    env: { ...agentEnvironment(run.config.env, run.home), [AGENT_SESSION_VAR]: run.sessionId },
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
  const stop = (): void => {
    killing ??= stopAgentProcesses(run.sessionId, pid);
  };
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
    run.signal.removeEventListener('abort', stop);
    // Whatever happened, nothing the agent started outlives its run.
    await (killing ?? stopAgentProcesses(run.sessionId, pid));
  }
}

