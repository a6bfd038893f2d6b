// Reads Claude Code's `--output-format stream-json --verbose` output, one JSON object per line:
// the init event (session id), assistant tool uses, API retries (which reveal rejected
// credentials long before the CLI gives up), and the final result (cost, usage, outcome).

export interface AgentResult {
  readonly subtype: string;
  readonly isError: boolean;
  readonly costUsd: number;
  readonly numTurns: number;
  readonly text?: string;
  readonly errors: readonly string[];
  readonly terminalReason?: string;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

export interface StreamState {
  sessionId?: string;
  /** The init event arrived: the CLI has created the session, so it can be resumed. */
  initSeen: boolean;
  toolUses: number;
  /** A short description of the newest event, for heartbeats and the Web UI. */
  lastEvent: string;
  /** HTTP status of API errors the CLI is retrying (401, 429, 529 ...), newest last. */
  apiErrors: number[];
  result?: AgentResult;
  /** Lines that were not JSON (the CLI prints warnings to stdout at times). */
  unparsed: number;
  /** Assistant messages so far (one per model turn). */
  turns: number;
  /** Tool calls asked for whose results have not come back: a tool is running. */
  pendingTools: number;
  /** The newest tool call (name and input as JSON), and how many times in a row it was asked for. */
  lastToolCall?: string;
  repeats: number;
  /** The newest few event descriptions, oldest first: the evidence of a stall. */
  recentEvents: string[];
  /** Id of the newest assistant message (the CLI sends one event per content block). */
  lastMessageId?: string;
}

const RECENT_EVENTS = 5;
/** A repeated call is quoted in findings; a huge input is cut. */
const TOOL_CALL_QUOTE_MAX = 2000;

export function newStreamState(): StreamState {
  return {
    initSeen: false,
    toolUses: 0,
    lastEvent: 'starting',
    apiErrors: [],
    unparsed: 0,
    turns: 0,
    pendingTools: 0,
    repeats: 0,
    recentEvents: [],
  };
}

function noteEvent(state: StreamState, description: string): void {
  state.lastEvent = description;
  state.recentEvents.push(description);
  if (state.recentEvents.length > RECENT_EVENTS) state.recentEvents.shift();
}

/** Folds one stdout line into the state. Unknown events are ignored: the CLI adds new ones. */
export function readStreamLine(state: StreamState, line: string): void {
  const trimmed = line.trim();
  if (trimmed === '') return;
  let event: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    event = parsed as Record<string, unknown>;
  } catch {
    state.unparsed += 1;
    return;
  }
  if (typeof event.session_id === 'string') state.sessionId = event.session_id;
  switch (event.type) {
    case 'system':
      if (event.subtype === 'init') {
        state.initSeen = true;
        noteEvent(state, 'session started');
      } else if (event.subtype === 'api_retry') {
        const status = typeof event.error_status === 'number' ? event.error_status : 0;
        state.apiErrors.push(status);
        noteEvent(state, `API error ${status}, retry ${String(event.attempt ?? '?')}`);
      }
      return;
    case 'assistant': {
      const id = (event.message as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string' || id !== state.lastMessageId) state.turns += 1;
      if (typeof id === 'string') state.lastMessageId = id;
      for (const block of contentBlocks(event)) {
        if (block.type === 'tool_use') {
          state.toolUses += 1;
          state.pendingTools += 1;
          const call = `${String(block.name)} ${JSON.stringify(block.input ?? {})}`.slice(0, TOOL_CALL_QUOTE_MAX);
          state.repeats = call === state.lastToolCall ? state.repeats + 1 : 1;
          state.lastToolCall = call;
          noteEvent(state, `tool ${String(block.name)}`);
        } else if (block.type === 'text') {
          noteEvent(state, 'text');
        }
      }
      return;
    }
    case 'user': {
      const results = contentBlocks(event).filter((b) => b.type === 'tool_result').length;
      state.pendingTools = Math.max(0, state.pendingTools - results);
      noteEvent(state, 'tool result');
      return;
    }
    case 'result':
      state.result = readResult(event);
      noteEvent(state, `result ${state.result.subtype}`);
      return;
    default:
      return;
  }
}

function contentBlocks(event: Record<string, unknown>): { type?: unknown; name?: unknown; input?: unknown }[] {
  const message = event.message as { content?: unknown } | undefined;
  return Array.isArray(message?.content)
    ? (message.content as { type?: unknown; name?: unknown; input?: unknown }[])
    : [];
}

function readResult(event: Record<string, unknown>): AgentResult {
  const usage = event.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
  return {
    subtype: typeof event.subtype === 'string' ? event.subtype : 'unknown',
    isError: event.is_error === true,
    costUsd:
      typeof event.total_cost_usd === 'number' && Number.isFinite(event.total_cost_usd) ? event.total_cost_usd : 0,
    numTurns: typeof event.num_turns === 'number' ? event.num_turns : 0,
    text: typeof event.result === 'string' ? event.result : undefined,
    errors: Array.isArray(event.errors) ? event.errors.map(String) : [],
    terminalReason: typeof event.terminal_reason === 'string' ? event.terminal_reason : undefined,
    usage: usage
      ? { inputTokens: Number(usage.input_tokens ?? 0), outputTokens: Number(usage.output_tokens ?? 0) }
      : undefined,
  };
}
