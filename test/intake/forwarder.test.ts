// The intake journal and its forwarder on a real SQLite file, with a scripted forwarding step in
// Temporal's place: order per lane, outage pause, retries, dead letters, revival, the backlog cap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { Forwarder, type ForwardResult, type ForwarderOptions } from '../../src/intake/forwarder';
import { IntakeJournal, JournalFullError, type JournalEntry, type NewEntry } from '../../src/intake/journal';
import { createIntakeMetrics } from '../../src/intake/metrics';
import { JournalInUseError, claimJournal } from '../../src/intake/journal-owner';
import { createLogger } from '../../src/util/logger';

const journals: IntakeJournal[] = [];
const forwarders: Forwarder[] = [];
afterEach(async () => {
  for (const f of forwarders.splice(0)) await f.stop();
  for (const j of journals.splice(0)) j.close();
});

function journal(options: ConstructorParameters<typeof IntakeJournal>[1] = {}): IntakeJournal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-journal-'));
  const j = new IntakeJournal(path.join(dir, 'journal.sqlite'), { sync: 'normal', ...options });
  journals.push(j);
  return j;
}

const entry = (key: string, lane: string, extra: Partial<NewEntry> = {}): NewEntry => ({
  key,
  lane,
  source: 'test',
  event: 'e',
  payload: JSON.stringify({ key }),
  action: JSON.stringify({ key }),
  ...extra,
});

function forwarder(
  j: IntakeJournal,
  step: (e: JournalEntry) => Promise<ForwardResult> | ForwardResult,
  options: ForwarderOptions = {},
): Forwarder {
  const registry = new Registry();
  const metrics = createIntakeMetrics(registry);
  metrics.watch(j);
  const f = new Forwarder(j, async (e) => step(e), createLogger({ write: () => undefined }), metrics, {
    baseBackoffMs: 10,
    maxBackoffMs: 40,
    pollMs: 20,
    ...options,
  });
  forwarders.push(f);
  return f;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('entries of one lane go one at a time in journal order; lanes go side by side', async () => {
  const j = journal();
  const seen: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const failedOnce = new Set<string>();
  const f = forwarder(j, async (e) => {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((r) => setTimeout(r, 2));
    running--;
    // The first entry of lane a fails once: b's entries must not overtake it.
    if (e.key === 'a1' && !failedOnce.has(e.key)) {
      failedOnce.add(e.key);
      return { kind: 'retry', reason: 'passing trouble' };
    }
    seen.push(e.key);
    return { kind: 'done', outcome: 'signalled' };
  });
  for (const key of ['a1', 'b1', 'a2', 'c1', 'b2', 'a3', 'c2']) j.append(entry(key, key[0]!));
  f.start();
  await until(() => j.stats().backlog === 0, 'the backlog to drain');
  const lane = (l: string) => seen.filter((k) => k.startsWith(l));
  expect(lane('a')).toEqual(['a1', 'a2', 'a3']);
  expect(lane('b')).toEqual(['b1', 'b2']);
  expect(lane('c')).toEqual(['c1', 'c2']);
  expect(mostAtOnce).toBeGreaterThan(1);
  expect(j.get(j.byKey('a1')!.id)).toMatchObject({ state: 'done', attempts: 2, outcome: 'signalled' });
});

test('an outage pauses all forwarding (one probe at a time) and nothing is lost when it ends', async () => {
  const j = journal();
  let up = false;
  let calls = 0;
  let atOnceWhileDown = 0;
  let runningWhileDown = 0;
  const done: string[] = [];
  const f = forwarder(
    j,
    async (e) => {
      calls++;
      if (!up) {
        atOnceWhileDown = Math.max(atOnceWhileDown, ++runningWhileDown);
        await new Promise((r) => setTimeout(r, 1));
        runningWhileDown--;
        return { kind: 'unavailable', reason: 'Temporal is not reachable' };
      }
      done.push(e.key);
      return { kind: 'done', outcome: 'signalled' };
    },
    { concurrency: 8 },
  );
  f.start();
  for (let i = 0; i < 40; i++) f.offer(j.append(entry(`k${i}`, `lane${i % 10}`)).entry);
  await until(() => f.paused(), 'the outage to be noticed');
  await new Promise((r) => setTimeout(r, 300));
  const callsWhileDown = calls;
  // The first wave (up to the concurrency) finds the outage; after it one probe at a time, each
  // after a backoff (at most 40 ms here): not a call per entry and retry.
  expect(atOnceWhileDown).toBeLessThanOrEqual(8);
  expect(callsWhileDown).toBeLessThan(8 + 300 / 10);
  const probesBefore = calls;
  await new Promise((r) => setTimeout(r, 200));
  expect(calls - probesBefore).toBeLessThanOrEqual(200 / 40 + 2);
  up = true;
  await until(() => j.stats().backlog === 0, 'the backlog to drain after the outage');
  expect(done.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
  expect(f.paused()).toBe(false);
});

test('a poison entry goes to the dead letters without holding up its lane; a person can revive or discard it', async () => {
  const j = journal();
  const seen: string[] = [];
  let poisonFixed = false;
  const f = forwarder(j, (e) => {
    if (e.key === 'p1' && !poisonFixed) return { kind: 'poison', reason: 'INVALID_ARGUMENT: no' };
    seen.push(e.key);
    return { kind: 'done', outcome: 'signalled' };
  });
  const poison = j.append(entry('p1', 'x')).entry;
  const after = j.append(entry('p2', 'x')).entry;
  const waiting = f.settled(poison.id, 5000);
  f.start();
  expect(await waiting).toEqual({ kind: 'dead', reason: 'INVALID_ARGUMENT: no' });
  await until(() => j.get(after.id)?.state === 'done', 'the entry behind the poison');
  expect(j.stats()).toMatchObject({ backlog: 0, deadLetters: 1 });
  expect(j.deadLetters().map((e) => [e.key, e.lastError])).toEqual([['p1', 'INVALID_ARGUMENT: no']]);

  poisonFixed = true;
  expect(j.revive(poison.id)).toBe(true);
  expect(j.revive(poison.id)).toBe(false); // no longer a dead letter
  await until(() => j.get(poison.id)?.state === 'done', 'the revived entry');
  expect(seen).toEqual(['p2', 'p1']);

  const other = j.append(entry('q1', 'y', { deadReason: 'configuration problem: prefix differs' })).entry;
  expect(other.state).toBe('dead');
  expect(j.discard(other.id)).toBe(true);
  expect(j.get(other.id)?.state).toBe('discarded');
  expect(j.stats().deadLetters).toBe(0);
});

test('a failing entry is retried with backoff, then dead-lettered; one the tracker cannot resolve yet waits without limit', async () => {
  const j = journal();
  let deferrals = 0;
  const f = forwarder(
    j,
    (e) => {
      if (e.key === 'r') return { kind: 'retry', reason: 'Error: something odd' };
      if (++deferrals < 8) return { kind: 'deferred', reason: 'Plane GET /issues/x/: unreachable' };
      return { kind: 'done', outcome: 'signalled' };
    },
    { maxAttempts: 3 },
  );
  const r = j.append(entry('r', 'r')).entry;
  const d = j.append(entry('d', 'd', { action: undefined })).entry;
  f.start();
  await until(() => j.get(r.id)?.state === 'dead' && j.get(d.id)?.state === 'done', 'both entries to settle');
  expect(j.get(r.id)).toMatchObject({ attempts: 3, lastError: 'after 3 attempts: Error: something odd' });
  expect(j.get(d.id)).toMatchObject({ attempts: 8, state: 'done' });
});

test('an exception from the forwarding step is a retry, never a crash', async () => {
  const j = journal();
  let thrown = 0;
  const f = forwarder(j, () => {
    if (thrown++ === 0) throw new Error('boom');
    return { kind: 'done', outcome: 'started' };
  });
  const e = j.append(entry('x', 'x')).entry;
  f.start();
  await until(() => j.get(e.id)?.state === 'done', 'the entry');
  expect(j.get(e.id)).toMatchObject({ attempts: 2, outcome: 'started' });
});

test('the journal: one entry per body, a capped backlog, pruning of finished entries, and it survives a reopen', () => {
  let now = 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-journal-'));
  const file = path.join(dir, 'journal.sqlite');
  const j = new IntakeJournal(file, { maxBacklog: 3, now: () => now });
  const first = j.append(entry('a', 'l'));
  expect(first.kind).toBe('appended');
  expect(j.append(entry('a', 'other-lane'))).toEqual({ kind: 'duplicate', entry: first.entry });
  j.append(entry('b', 'l'));
  j.append(entry('c', 'm'));
  expect(() => j.append(entry('d', 'm'))).toThrow(JournalFullError);
  // A dead letter is recorded even at the cap: it must not be lost.
  expect(j.append(entry('e', 'n', { deadReason: 'config' })).kind).toBe('appended');
  expect(j.dueHeads(10).map((e) => e.key)).toEqual(['a', 'c']);
  expect(j.hasOlderPending('l', j.byKey('b')!.id)).toBe(true);
  j.markDone(first.entry.id, 'started');
  now += 10;
  expect(j.prune(5)).toBe(1);
  expect(j.byKey('a')).toBeUndefined();
  j.close();
  const reopened = new IntakeJournal(file, { now: () => now });
  expect(reopened.stats()).toEqual({ backlog: 2, oldestReceivedAt: 1_000_000, deadLetters: 1 });
  reopened.close();
});

test('one API per journal: a live owner refuses a second claim; the claim of a dead owner is taken over', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-journal-owner-'));
  const file = path.join(dir, 'journal.sqlite');
  const release = claimJournal(file);
  // This test process runs node: as far as another process is concerned, a live owner.
  expect(() => claimJournal(file, process.pid + 1_000_000)).toThrow(JournalInUseError);
  expect(() => claimJournal(file, process.pid + 1_000_000)).toThrow(/already forwarded by process \d+/);
  release();
  expect(fs.existsSync(`${file}.owner`)).toBe(false);
  // A claim left by a process that is gone (a killed API).
  fs.writeFileSync(`${file}.owner`, '999999999\n');
  const again = claimJournal(file);
  expect(fs.readFileSync(`${file}.owner`, 'utf8').trim()).toBe(String(process.pid));
  again();
});
