// The run watch's decisions with controlled probes: stalls by the clock (a working tool is not
// one), loops by repeated calls, drift by turns without a file change; and the stream's
// bookkeeping it reads (turns, tool calls in flight, repeats, recent events).
import { RunWatch, type WatchProbes } from '../../src/activities/agent/run-watch';
import { newStreamState, readStreamLine, type StreamState } from '../../src/activities/agent/stream';

function probes(): WatchProbes & { time: number; cpu: number; print: string } {
  const p = {
    time: 0,
    cpu: 0,
    print: 'a',
    now: () => p.time,
    toolCpuTicks: () => new Map([[1, p.cpu]]),
    fingerprint: async () => ({ digest: p.print, files: [] }),
  };
  return p;
}

const limits = { stallMs: 1000, maxRepeats: 3, maxTurnsWithoutChange: 2 };

function assistant(id: string, blocks: unknown[]): string {
  return JSON.stringify({ type: 'assistant', message: { id, content: blocks } });
}
const bash = (command: string) => ({ type: 'tool_use', name: 'Bash', input: { command } });
const result = JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', content: 'ok' }] } });

function feed(stream: StreamState, ...lines: string[]): StreamState {
  for (const line of lines) readStreamLine(stream, line);
  return stream;
}

test('the stream counts turns once per message, tool calls in flight and identical calls in a row', () => {
  const s = feed(newStreamState(), assistant('m1', [bash('npm test')]), assistant('m1', [{ type: 'text', text: 'x' }]));
  expect({ turns: s.turns, pending: s.pendingTools, repeats: s.repeats, last: s.lastToolCall }).toEqual({
    turns: 1,
    pending: 1,
    repeats: 1,
    last: 'Bash {"command":"npm test"}',
  });
  feed(s, result, assistant('m2', [bash('npm test')]), result, assistant('m3', [bash('npm test')]));
  expect({ turns: s.turns, pending: s.pendingTools, repeats: s.repeats }).toEqual({ turns: 3, pending: 1, repeats: 3 });
  feed(s, result, assistant('m4', [bash('ls')]));
  expect(s.repeats).toBe(1);
  expect(s.recentEvents).toEqual(['tool Bash', 'tool result', 'tool Bash', 'tool result', 'tool Bash']);
});

test('silence past stallMs is a stall, naming the last event and the recent ones', async () => {
  const p = probes();
  const watch = new RunWatch(limits, p, 'developer');
  const s = feed(newStreamState(), assistant('m1', [{ type: 'text', text: 'thinking' }]));
  await watch.onEvent(s);
  p.time = 999;
  expect(watch.checkStall(s)).toBeUndefined();
  p.time = 1000;
  expect(watch.checkStall(s)).toEqual({
    kind: 'stall',
    message: 'stalled after text: no stream event for 1 s (agents.stallMs 1000); last events: text',
    recentEvents: ['text'],
  });
});

test('every event restarts the clock (a slow model that keeps streaming is no stall)', async () => {
  const p = probes();
  const watch = new RunWatch(limits, p, 'developer');
  const s = newStreamState();
  for (let t = 0; t <= 5000; t += 500) {
    p.time = t;
    readStreamLine(s, JSON.stringify({ type: 'stream_event', event: { type: 'content_block_delta' } }));
    await watch.onEvent(s);
    expect(watch.checkStall(s)).toBeUndefined();
  }
});

test('a tool that keeps using the CPU is progress; one that sits idle stalls', async () => {
  const p = probes();
  const watch = new RunWatch(limits, p, 'developer');
  const s = feed(newStreamState(), assistant('m1', [bash('npm test')]));
  await watch.onEvent(s);
  p.time = 1000;
  p.cpu = 10;
  expect(watch.checkStall(s)).toBeUndefined(); // first look: the baseline
  p.time = 2000;
  p.cpu = 50;
  expect(watch.checkStall(s)).toBeUndefined(); // it worked meanwhile
  p.time = 3000;
  expect(watch.checkStall(s)?.kind).toBe('stall'); // and then it did not
});

test('the same call maxRepeats times in a row is a loop, quoted in the finding', async () => {
  const watch = new RunWatch(limits, probes(), 'developer');
  const s = newStreamState();
  let verdict;
  for (const id of ['m1', 'm2', 'm3'])
    verdict = await watch.onEvent(feed(s, assistant(id, [bash('npm test')]), result));
  expect(verdict).toEqual({
    kind: 'loop',
    finding:
      'The developer agent asked for the same tool call 3 times in a row and was stopped (agents.maxRepeats 3). The repeated call: Bash {"command":"npm test"}',
  });
});

test('turns without a file change is a loop; a change resets the count', async () => {
  const p = probes();
  const watch = new RunWatch(limits, p, 'reviewer');
  const s = newStreamState();
  expect(await watch.onEvent(feed(s, assistant('m1', [bash('ls a')])))).toBeUndefined();
  expect(await watch.onEvent(feed(s, result, assistant('m2', [bash('ls b')])))).toBeUndefined();
  p.print = 'b';
  expect(await watch.onEvent(feed(s, result, assistant('m3', [bash('ls c')])))).toBeUndefined();
  expect(watch.turnsWithoutChange).toBe(0);
  expect(await watch.onEvent(feed(s, result, assistant('m4', [bash('ls d')])))).toBeUndefined();
  expect(await watch.onEvent(feed(s, result, assistant('m5', [bash('ls e')])))).toEqual({
    kind: 'loop',
    finding:
      'The reviewer agent went 2 turns without changing a file in the workspace and was stopped (agents.maxTurnsWithoutChange 2). Its last tool call: Bash {"command":"ls e"}',
  });
});
