// A scripted model server on 127.0.0.1 that speaks the Anthropic Messages API the way the
// Claude Code CLI uses it (streamed SSE with text and tool_use blocks). Each streamed request
// gets the next scripted turn, so the real CLI makes real tool calls that write real files.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedTurn =
  | { readonly tool: string; readonly input: Record<string, unknown> }
  | { readonly text: string };

export interface ScriptedModelServer {
  readonly url: string;
  /** The Messages requests received (parsed bodies), in order. */
  readonly requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startScriptedModelServer(turns: readonly ScriptedTurn[]): Promise<ScriptedModelServer> {
  const requests: ScriptedModelServer['requests'] = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      requests.push({ path: req.url, body });
      if (body.stream !== true) {
        // Side requests (e.g. title generation) get a short plain answer.
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message([{ type: 'text', text: 'ok' }], 'end_turn', String(body.model ?? 'scripted'))));
        return;
      }
      const turn = turns[Math.min(next, turns.length - 1)] ?? { text: 'nothing scripted' };
      next += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const [event, data] of sse(turn, String(body.model ?? 'scripted'), next)) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

const usage = { input_tokens: 120, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

function message(content: unknown[], stopReason: string, model: string) {
  return { id: 'msg_scripted', type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage };
}

function sse(turn: ScriptedTurn, model: string, n: number): [string, unknown][] {
  const events: [string, unknown][] = [['message_start', { type: 'message_start', message: { ...message([], null as never, model), id: `msg_scripted_${n}` } }]];
  if ('tool' in turn) {
    events.push(
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: `toolu_scripted_${n}`, name: turn.tool, input: {} } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(turn.input) } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 40 } }],
    );
  } else {
    events.push(
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: turn.text } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } }],
    );
  }
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}
