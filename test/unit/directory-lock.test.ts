// The lock on a directory that activities share (a build checkout, a git mirror): one holder at a
// time, a lock left by a killed holder is taken over once stale, and a cancelled activity stops
// waiting. Two deploys at once through the real activity are in test/deploy/deploy.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withDirectoryLock } from '../../src/activities/directory-lock';

const sharedDir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-lock-')), 'build', 'shop');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('holders take turns and the lock is gone afterwards', async () => {
  const dir = sharedDir();
  const seen: string[] = [];
  const hold = (name: string) =>
    withDirectoryLock(dir, async () => {
      seen.push(`${name} in`);
      await pause(100);
      seen.push(`${name} out`);
      return name;
    });
  expect(await Promise.all([hold('a'), hold('b'), hold('c')])).toEqual(['a', 'b', 'c']);
  // Each holder leaves before the next comes in.
  expect(seen).toHaveLength(6);
  for (let i = 0; i < seen.length; i += 2) expect(seen[i + 1]).toBe(seen[i]?.replace(' in', ' out'));
  expect(fs.existsSync(`${dir}.lock`)).toBe(false);
});

test('work that fails releases the lock and its error reaches the caller', async () => {
  const dir = sharedDir();
  await expect(withDirectoryLock(dir, () => Promise.reject(new Error('deploy command failed')))).rejects.toThrow(
    'deploy command failed',
  );
  expect(await withDirectoryLock(dir, async () => 'next')).toBe('next');
});

test('a lock whose holder was killed (not refreshed for a minute) is taken over', async () => {
  const dir = sharedDir();
  fs.mkdirSync(`${dir}.lock`, { recursive: true });
  const minuteAgo = new Date(Date.now() - 60_000);
  fs.utimesSync(`${dir}.lock`, minuteAgo, minuteAgo);
  expect(await withDirectoryLock(dir, async () => 'taken over')).toBe('taken over');
});

test('a waiter whose activity is cancelled stops waiting; the holder is not disturbed', async () => {
  const dir = sharedDir();
  let release: () => void = () => undefined;
  const holder = withDirectoryLock(dir, () => new Promise<string>((r) => (release = () => r('held'))));
  await pause(50);
  const cancel = new AbortController();
  const waiter = withDirectoryLock(dir, async () => 'never', cancel.signal);
  await pause(200);
  cancel.abort();
  await expect(waiter).rejects.toMatchObject({ name: 'AbortError' });
  release();
  expect(await holder).toBe('held');
});
