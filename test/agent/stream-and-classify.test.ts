// The stream parser and the failure classification on transcripts recorded from the real CLI
// (test/fixtures/claude-stream, made with the scripted model server).
import fs from 'node:fs';
import path from 'node:path';
import { classifyRun } from '../../src/activities/agent/classify';
import { newStreamState, readStreamLine, type StreamState } from '../../src/activities/agent/stream';

function replay(name: string): StreamState {
  const state = newStreamState();
  for (const line of fs
    .readFileSync(path.join(__dirname, '../fixtures/claude-stream', `${name}.jsonl`), 'utf8')
    .split('\n'))
    readStreamLine(state, line);
  return state;
}

test('a successful run yields the session, the tool uses and the cost', () => {
  const state = replay('write-tool-success');
  expect(state).toMatchObject({ initSeen: true, toolUses: 1, sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  expect(state.result).toMatchObject({ subtype: 'success', isError: false, numTurns: 2 });
  expect(state.result?.costUsd).toBeGreaterThan(0);
  expect(classifyRun({ exitCode: 0, stderrTail: '', stream: state })).toEqual({ kind: 'success' });
});

test('a resumed run keeps the session id it was given', () => {
  const state = replay('resume');
  expect(state.result).toMatchObject({ subtype: 'success', isError: false });
  expect(state.sessionId).toBe('a314e211-304d-4f3d-9d9b-c7a54ae96bc6');
});

test('the dollar cap is a budget stop, not a crash', () => {
  const state = replay('budget-exceeded');
  const outcome = classifyRun({ exitCode: 1, stderrTail: '', stream: state });
  expect(outcome.kind).toBe('budget');
  expect(outcome).toMatchObject({ message: expect.stringContaining('Reached maximum budget') });
  expect(state.result?.costUsd).toBeGreaterThan(0);
});

test('the turn limit is classified as max-turns', () => {
  expect(classifyRun({ exitCode: 1, stderrTail: '', stream: replay('max-turns') }).kind).toBe('max-turns');
});

test('a 401 from the API is rejected credentials, already from the first retry event', () => {
  const early = newStreamState();
  const lines = fs
    .readFileSync(path.join(__dirname, '../fixtures/claude-stream/auth-rejected.jsonl'), 'utf8')
    .split('\n');
  for (const line of lines.slice(0, 2)) readStreamLine(early, line);
  expect(early.apiErrors).toEqual([401]);
  expect(classifyRun({ signal: 'SIGTERM', stderrTail: '', stream: early }).kind).toBe('credentials');
  expect(classifyRun({ exitCode: 1, stderrTail: '', stream: replay('auth-rejected') }).kind).toBe('credentials');
});

test('a missing binary and a crash without a result are told apart', () => {
  expect(classifyRun({ spawnErrorCode: 'ENOENT', stderrTail: '', stream: newStreamState() }).kind).toBe(
    'binary-missing',
  );
  const crashed = classifyRun({ signal: 'SIGKILL', stderrTail: 'segfault', stream: newStreamState() });
  expect(crashed).toEqual({
    kind: 'crash',
    message: expect.stringContaining(
      '(killed by SIGKILL, no result event); stderr: segfault; likely cause: killed with SIGKILL (out of memory, or killed from outside)',
    ),
  });
  const errored = newStreamState();
  readStreamLine(
    errored,
    JSON.stringify({ type: 'result', subtype: 'error_during_execution', is_error: true, total_cost_usd: 0.1 }),
  );
  expect(classifyRun({ exitCode: 1, stderrTail: '', stream: errored })).toMatchObject({
    kind: 'crash',
    message: expect.stringContaining('error_during_execution'),
  });
});

test('lines that are not JSON objects are counted and skipped; unknown events are ignored', () => {
  const state = newStreamState();
  for (const line of [
    'Warning: something',
    '42',
    '{"type":"stream_event","event":{}}',
    '',
    '{"type":"result","subtype":"success","is_error":false,"total_cost_usd":"NaN"}',
  ])
    readStreamLine(state, line);
  expect(state.unparsed).toBe(2);
  expect(state.result).toMatchObject({ subtype: 'success', costUsd: 0 });
});

test('a silent exit is classified from its exit code, signal and stderr; an unknown one quotes stderr', () => {
  const silent = (end: { exitCode?: number; signal?: string; stderrTail: string }) =>
    classifyRun({ ...end, stream: newStreamState() });
  expect(silent({ exitCode: 1, stderrTail: 'Error: ENOSPC: no space left on device, write' })).toEqual({
    kind: 'binary-missing',
    message:
      'the Claude Code CLI failed (exit code 1, no result event); stderr: Error: ENOSPC: no space left on device, write; the disk is full: free space on the worker, then retry',
  });
  expect(silent({ exitCode: 127, stderrTail: 'claude: not found' }).kind).toBe('binary-missing');
  expect(silent({ exitCode: 1, stderrTail: "Error: Cannot find module 'x'" }).kind).toBe('binary-missing');
  expect(silent({ exitCode: 1, stderrTail: 'connect ECONNREFUSED 127.0.0.1:3128' })).toEqual({
    kind: 'crash',
    message: expect.stringMatching(/ECONNREFUSED 127\.0\.0\.1:3128; likely cause: the model API could not be reached$/),
  });
  expect(silent({ exitCode: 1, stderrTail: 'fatal: the frobnicator lost its socket' })).toEqual({
    kind: 'crash',
    message:
      'the Claude Code CLI failed (exit code 1, no result event); stderr: fatal: the frobnicator lost its socket',
  });
});
