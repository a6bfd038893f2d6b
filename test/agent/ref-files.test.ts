// Refs read from the files agree with git on real repositories, and every case the files cannot
// answer for certain is left to git (undefined), never answered wrongly.
import fs from 'node:fs';
import path from 'node:path';
import { headFromFiles, refsFromFiles } from '../../src/activities/git/ref-files';
import { ensureClone } from '../../src/activities/git/repository';
import { createRepo } from '../support/git-fixtures';

function setUp() {
  const repo = createRepo();
  repo.commit('feature/a', { 'a.md': 'a\n' });
  repo.commit('feature/a-b', { 'b.md': 'b\n' });
  repo.git('checkout', '--quiet', 'main');
  return { repo, gitDir: path.join(repo.work, '.git'), at: (ref: string) => repo.git('rev-parse', ref).trim() };
}

test('loose and packed refs read from the files are what git says; absent refs are absent', () => {
  const { repo, gitDir, at } = setUp();
  const refs = ['refs/heads/main', 'refs/heads/feature/a', 'refs/remotes/origin/feature/a-b', 'refs/heads/nope'];
  const expected = new Map([
    ['refs/heads/main', at('main')],
    ['refs/heads/feature/a', at('feature/a')],
    ['refs/remotes/origin/feature/a-b', at('origin/feature/a-b')],
  ]);
  expect(refsFromFiles(gitDir, refs)).toEqual(expected);
  repo.git('pack-refs', '--all', '--prune');
  expect(fs.existsSync(path.join(gitDir, 'refs/heads/feature/a'))).toBe(false);
  expect(refsFromFiles(gitDir, refs)).toEqual(expected);
  expect(headFromFiles(gitDir)).toBe(at('HEAD'));
});

test('a ref whose name is a directory of other refs does not exist', () => {
  const { gitDir } = setUp();
  expect(refsFromFiles(gitDir, ['refs/heads/feature'])).toEqual(new Map());
});

test('what the files cannot tell for certain is left to git', () => {
  const { repo, gitDir } = setUp();
  // A name that would leave the ref directories.
  expect(refsFromFiles(gitDir, ['refs/heads/../../config'])).toBeUndefined();
  expect(refsFromFiles(gitDir, ['HEAD'])).toBeUndefined();
  // A symbolic ref.
  repo.git('symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
  expect(refsFromFiles(gitDir, ['refs/heads/alias'])).toBeUndefined();
  // A detached HEAD.
  repo.git('checkout', '--quiet', '--detach', 'main');
  expect(headFromFiles(gitDir)).toBeUndefined();
  repo.git('checkout', '--quiet', 'main');
  // Another ref storage.
  fs.mkdirSync(path.join(gitDir, 'reftable'));
  expect(refsFromFiles(gitDir, ['refs/heads/main'])).toBeUndefined();
});

test('a clone given a stored origin keeps that URL and fetched from the real one', async () => {
  const { repo, at } = setUp();
  const dir = path.join(path.dirname(repo.origin), 'clone');
  const stored = 'https://git.example/shop.git';
  expect(await ensureClone(repo.origin, dir, stored)).toBe(true);
  const config = fs.readFileSync(path.join(dir, '.git', 'config'), 'utf8');
  expect(config).toContain(`url = ${stored}\n`);
  expect(config).not.toContain(repo.origin);
  expect(headFromFiles(path.join(dir, '.git'))).toBe(at('main'));
  expect(await ensureClone(repo.origin, dir, stored)).toBe(false);
});
