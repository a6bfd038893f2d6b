// Group commit: deliveries appended in the same turn of the event loop share one transaction
// (one disk sync), and each still gets its own result.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GroupedAppends } from '../../src/intake/group-append';
import { IntakeJournal, JournalFullError, type NewEntry } from '../../src/intake/journal';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function journal(maxBacklog?: number): IntakeJournal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-group-'));
  dirs.push(dir);
  return new IntakeJournal(path.join(dir, 'journal.sqlite'), maxBacklog ? { maxBacklog } : {});
}

const entry = (key: string): NewEntry => ({ key, lane: `lane-${key}`, source: 'plane', event: 'issue', payload: '{}' });

/** The journal, counting how many entries each transaction carried. */
function counted(j: IntakeJournal) {
  const batches: number[] = [];
  const appends = new GroupedAppends({
    appendMany: (entries) => (batches.push(entries.length), j.appendMany(entries)),
  });
  return { appends, batches };
}

test('appends of one turn go in one transaction; a later turn starts another; a repeated key is a duplicate', async () => {
  const j = journal();
  const { appends, batches } = counted(j);
  const first = await Promise.all(['a', 'b', 'a', 'c'].map((k) => appends.append(entry(k))));
  expect(first.map((r) => r.kind)).toEqual(['appended', 'appended', 'duplicate', 'appended']);
  expect(first[2]!.entry.id).toBe(first[0]!.entry.id);
  const later = await appends.append(entry('d'));
  expect(later.kind).toBe('appended');
  expect(batches).toEqual([4, 1]);
  expect(j.stats().backlog).toBe(4);
  // On disk: a second connection sees them all.
  const reader = new IntakeJournal(j.file, { mustExist: true });
  expect(['a', 'b', 'c', 'd'].map((k) => reader.byKey(k)?.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
  reader.close();
  j.close();
});

test('a full journal refuses only the deliveries past its cap; the others of the same turn are written', async () => {
  const j = journal(2);
  const { appends } = counted(j);
  const results = await Promise.allSettled(['a', 'b', 'c'].map((k) => appends.append(entry(k))));
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(JournalFullError);
  expect(j.byKey('c')).toBeUndefined();
  expect(j.stats().backlog).toBe(2);
  j.close();
});

test('a failed write refuses every delivery of its turn and writes none', async () => {
  const j = journal();
  const appends = new GroupedAppends(j);
  // A row SQLite refuses (payload is NOT NULL), as a disk error would fail the transaction.
  const broken = { ...entry('b'), payload: null as unknown as string };
  const results = await Promise.allSettled([appends.append(entry('a')), appends.append(broken)]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(j.byKey('a')).toBeUndefined();
  expect(j.stats().backlog).toBe(0);
  j.close();
});
