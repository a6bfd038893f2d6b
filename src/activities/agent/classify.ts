// What a finished (or failed-to-start) CLI run means for the work item. The kinds a person must
// fix (binary, credentials, budget) stop the item instead of being retried; a crash is retried
// (and the retry resumes the session); max turns is retried too, resuming gives it more turns.
import type { StreamState } from './stream';

export type AgentOutcome =
  | { readonly kind: 'success' }
  /** The CLI cannot run here (missing, broken install, full disk): a person must fix it. */
  | { readonly kind: 'binary-missing'; readonly message: string }
  | { readonly kind: 'credentials'; readonly message: string }
  | { readonly kind: 'budget'; readonly message: string }
  | { readonly kind: 'max-turns'; readonly message: string }
  | { readonly kind: 'crash'; readonly message: string }
  /** Stopped at a sandbox limit (wall time, memory, processes): a person raises it or narrows the task. */
  | { readonly kind: 'limit'; readonly message: string };

export interface RunEnd {
  /** The spawn error's code (ENOENT, EACCES) when the binary could not be started. */
  readonly spawnErrorCode?: string;
  readonly exitCode?: number;
  readonly signal?: string;
  /** The last lines of stderr (already free of secrets: the CLI never prints its key). */
  readonly stderrTail: string;
  readonly stream: StreamState;
}

/** HTTP statuses that mean the key is missing, wrong or not allowed: retrying cannot help. */
const CREDENTIAL_STATUSES = new Set([401, 403]);
const CREDENTIAL_TEXT = /invalid api key|not logged in|authentication|x-api-key|oauth token|please run \/login/i;

/** True as soon as the stream shows rejected credentials: the CLI would retry for minutes. */
export function credentialsRejected(stream: StreamState): boolean {
  return stream.apiErrors.some((status) => CREDENTIAL_STATUSES.has(status));
}

export function classifyRun(end: RunEnd): AgentOutcome {
  if (end.spawnErrorCode === 'ENOENT' || end.spawnErrorCode === 'EACCES') {
    return {
      kind: 'binary-missing',
      message: `the Claude Code CLI could not be started (${end.spawnErrorCode}); install it or set ORCH_CLAUDE_BIN`,
    };
  }
  const result = end.stream.result;
  if (
    credentialsRejected(end.stream) ||
    (result?.isError && result.terminalReason === 'api_error' && CREDENTIAL_TEXT.test(result.text ?? ''))
  ) {
    return {
      kind: 'credentials',
      message: 'the model API rejected the credentials (HTTP 401/403); set a valid ANTHROPIC_API_KEY and retry',
    };
  }
  if (result?.subtype === 'error_max_budget_usd') {
    return {
      kind: 'budget',
      message: `the agent reached its dollar cap (${result.errors.join('; ') || 'max budget'})`,
    };
  }
  if (result?.subtype === 'error_max_turns') {
    return {
      kind: 'max-turns',
      message: `the agent reached its turn limit (${result.errors.join('; ') || 'max turns'})`,
    };
  }
  if (result && !result.isError && end.exitCode === 0) return { kind: 'success' };
  const how = end.signal ? `killed by ${end.signal}` : `exit code ${end.exitCode ?? 'unknown'}`;
  const what = result
    ? `${result.subtype}${result.text ? `: ${result.text}` : ''}${result.errors.length ? ` (${result.errors.join('; ')})` : ''}`
    : 'no result event';
  const stderr = end.stderrTail ? `; stderr: ${end.stderrTail}` : '';
  const failed = `the Claude Code CLI failed (${how}, ${what})${stderr}`;
  if (result) return { kind: 'crash', message: failed };
  // No result event: an exit without a word from the CLI. Its cause, where the evidence tells it.
  const cause = SILENT_EXIT_CAUSES.find((c) => c.test(end));
  if (cause?.person) return { kind: 'binary-missing', message: `${failed}; ${cause.cause}` };
  return { kind: 'crash', message: cause ? `${failed}; likely cause: ${cause.cause}` : failed };
}

/** Known causes of a CLI that ended without a result event; `person` ones retrying cannot fix. */
const SILENT_EXIT_CAUSES: readonly {
  readonly test: (end: RunEnd) => boolean;
  readonly cause: string;
  readonly person?: true;
}[] = [
  {
    test: (e) => /ENOSPC|no space left on device/i.test(e.stderrTail),
    cause: 'the disk is full: free space on the worker, then retry',
    person: true,
  },
  {
    test: (e) =>
      /Cannot find module|ERR_MODULE_NOT_FOUND|GLIBC_[\d.]+' not found|exec format error/i.test(e.stderrTail) ||
      e.exitCode === 126 ||
      e.exitCode === 127,
    cause: 'the CLI installation is broken or does not fit this machine: reinstall it (npm ci) or set ORCH_CLAUDE_BIN',
    person: true,
  },
  {
    test: (e) => e.signal === 'SIGKILL' || e.exitCode === 137,
    cause: 'killed with SIGKILL (out of memory, or killed from outside)',
  },
  {
    test: (e) => /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up/i.test(e.stderrTail),
    cause: 'the model API could not be reached',
  },
];
