// The real Claude Code CLI (pinned in package.json) driven by the scripted model server: it
// makes a real Write tool call that writes a real file, and reports its session and cost in the
// stream-json result. This is the harness the agent stages are built on.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startScriptedModelServer } from '../../src/dev/scripted-model/server';

const CLAUDE = path.resolve(__dirname, '../../node_modules/.bin/claude');
jest.setTimeout(120_000);

test('the real CLI writes an artifact through a scripted tool call and reports session and cost', async () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-agent-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-home-'));
  const file = path.join(workdir, 'docs/work-items/SHOP-42/12-review.md');
  const model = await startScriptedModelServer([
    { tool: 'Write', input: { file_path: file, content: '---\nverdict: APPROVE\n---\n\nScripted review.\n' } },
    { text: 'Review written.' },
  ]);
  const sessionId = crypto.randomUUID();
  try {
    const { stdout } = await promisify(execFile)(
      CLAUDE,
      [
        '-p',
        'Review the change and write 12-review.md',
        '--output-format',
        'stream-json',
        '--verbose',
        '--session-id',
        sessionId,
        '--permission-mode',
        'acceptEdits',
        '--tools',
        'Write,Read,Edit,Bash',
        '--model',
        'claude-scripted',
      ],
      {
        cwd: workdir,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          ANTHROPIC_BASE_URL: model.url,
          ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
        },
        maxBuffer: 32 * 1024 * 1024,
      },
    );
    if (process.env.RECORD_CLAUDE_STREAM === '1') {
      // A real transcript for the stream parser's unit tests (paths and ids vary per run).
      fs.writeFileSync(
        path.resolve(__dirname, '../fixtures/claude-stream/write-tool-success.jsonl'),
        stdout.split(workdir).join('/work/item'),
      );
    }
    const events = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fs.readFileSync(file, 'utf8')).toBe('---\nverdict: APPROVE\n---\n\nScripted review.\n');
    expect(events.find((e) => e.type === 'system' && e.subtype === 'init')).toMatchObject({ session_id: sessionId });
    expect(events.at(-1)).toMatchObject({
      type: 'result',
      is_error: false,
      session_id: sessionId,
      num_turns: 2,
      total_cost_usd: expect.any(Number),
    });
    // The second request carried the tool's result back to the model.
    expect(JSON.stringify(model.requests.at(-1)?.body)).toContain('tool_result');
  } finally {
    await model.close();
  }
});
