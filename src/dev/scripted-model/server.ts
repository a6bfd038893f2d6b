// A scripted model server on 127.0.0.1 that speaks the Anthropic Messages API the way the
// Claude Code CLI uses it (streamed SSE with text and tool_use blocks). A script answers each
// streamed request with the next turn, so the real CLI makes real tool calls that write real
// files. Used by the agent tests and by `npm run demo`; it is not a model and never pretends to be.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedTurn =
  | { readonly tool: string; readonly input: Record<string, unknown> }
  /** A text answer; with `chunks`, streamed as that many deltas `delayMs` apart (a slow model). */
  | { readonly text: string; readonly chunks?: number; readonly delayMs?: number }
  /** Starts the answer, then sends nothing more until the client goes away (a stalled stream). */
  | { readonly hang: true }
  /** An API error answer (e.g. 401 authentication_error), as the real API sends it. */
  | { readonly error: { readonly status: number; readonly type: string; readonly message: string } };

/** What a script sees of one streamed Messages request. */
export interface ModelRequest {
  readonly body: Record<string, unknown>;
  /** All text the user side sent (prompt and tool results), joined: scripts read markers from it. */
  readonly userText: string;
  /** How many assistant turns the conversation already has: the index of the turn to answer. */
  readonly turnIndex: number;
  /** The x-claude-code-session-id header, when the CLI sends one. */
  readonly sessionHeader?: string;
  /** The tool calls the conversation already made (name and input as JSON), oldest first. */
  readonly toolCallsMade: readonly string[];
  /** The x-api-key header the request arrived with (tests check who put the key in). */
  readonly apiKey?: string;
}

/** How a tool call is recognised in a conversation's history. */
export function toolCallKey(tool: string, input: Record<string, unknown>): string {
  return JSON.stringify([tool, input]);
}

export type ModelScript = (request: ModelRequest) => ScriptedTurn | Promise<ScriptedTurn>;

export interface ScriptedModelServer {
  readonly url: string;
  /** The streamed Messages requests received, in order. */
  readonly requests: ModelRequest[];
  close(): Promise<void>;
}

/** A fixed list of turns, answered by position in the conversation (the last one repeats). */
export function turnsScript(turns: readonly ScriptedTurn[]): ModelScript {
  return ({ turnIndex }) => turns[Math.min(turnIndex, turns.length - 1)] ?? { text: 'nothing scripted' };
}

export async function startScriptedModelServer(
  script: ModelScript | readonly ScriptedTurn[],
): Promise<ScriptedModelServer> {
  const answer = typeof script === 'function' ? script : turnsScript(script);
  const requests: ModelRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let served = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      void respond(req, res, raw).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function respond(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const model = String(body.model ?? 'scripted');
    if (body.stream !== true) {
      // Side requests (e.g. title generation) get a short plain answer.
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(message([{ type: 'text', text: 'ok' }], 'end_turn', model)));
      return;
    }
    const apiKeyHeader = req.headers['x-api-key'];
    const request = {
      ...describe(body, req.headers['x-claude-code-session-id']),
      apiKey: typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined,
    };
    requests.push(request);
    const turn = await answer(request);
    served += 1;
    if ('error' in turn) {
      res.writeHead(turn.error.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: turn.error.type, message: turn.error.message } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = ([event, data]: [string, unknown]): boolean =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if ('hang' in turn) {
      send([
        'message_start',
        { type: 'message_start', message: { ...message([], null, model), id: `msg_scripted_${served}` } },
      ]);
      await new Promise<void>((resolve) => res.once('close', () => resolve()));
      return;
    }
    const delayMs = 'chunks' in turn ? (turn.delayMs ?? 0) : 0;
    for (const event of sse(turn, model, served)) {
      if (delayMs > 0 && event[0] === 'content_block_delta') await new Promise((r) => setTimeout(r, delayMs));
      if (res.destroyed) return;
      send(event);
    }
    res.end();
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((r) => {
        // A CLI killed mid-request leaves its socket open; do not wait for it.
        for (const socket of sockets) socket.destroy();
        server.close(() => r());
      }),
  };
}

function describe(body: Record<string, unknown>, sessionHeader: string | string[] | undefined): ModelRequest {
  const messages = Array.isArray(body.messages) ? (body.messages as { role: string; content: unknown }[]) : [];
  const userText = messages
    .filter((m) => m.role === 'user')
    .map((m) => textOf(m.content))
    .join('\n');
  const toolCallsMade = messages
    .filter((m) => m.role === 'assistant' && Array.isArray(m.content))
    .flatMap((m) => m.content as { type?: string; name?: string; input?: Record<string, unknown> }[])
    .filter((block) => block.type === 'tool_use' && typeof block.name === 'string')
    .map((block) => toolCallKey(block.name as string, block.input ?? {}));
  return {
    body,
    userText,
    turnIndex: messages.filter((m) => m.role === 'assistant').length,
    sessionHeader: typeof sessionHeader === 'string' ? sessionHeader : undefined,
    toolCallsMade,
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: { type?: string; text?: string; content?: unknown }) =>
      block.type === 'text' ? (block.text ?? '') : block.type === 'tool_result' ? textOf(block.content) : '',
    )
    .join('\n');
}

const usage = { input_tokens: 120, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

function message(content: unknown[], stopReason: string | null, model: string) {
  return {
    id: 'msg_scripted',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

function sse(
  turn: Exclude<ScriptedTurn, { error: unknown } | { hang: true }>,
  model: string,
  n: number,
): [string, unknown][] {
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: { ...message([], null, model), id: `msg_scripted_${n}` } }],
  ];
  if ('tool' in turn) {
    events.push(
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: `toolu_scripted_${n}`, name: turn.tool, input: {} },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(turn.input) },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: { stop_reason: 'tool_use', stop_sequence: null },
          usage: { output_tokens: 40 },
        },
      ],
    );
  } else {
    const chunks = Math.max(1, turn.chunks ?? 1);
    const size = Math.ceil(turn.text.length / chunks);
    const parts = Array.from({ length: chunks }, (_, i) => turn.text.slice(i * size, (i + 1) * size));
    events.push(
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ...parts.map((text): [string, unknown] => [
        'content_block_delta',
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
      ]),
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: 12 },
        },
      ],
    );
  }
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}
