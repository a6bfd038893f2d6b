// The item's checkout on real repositories: created from origin's default branch, brought up to
// date with commits others pushed to the item branch (the security gate's report), keeping work
// not committed yet, and committing only when something changed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { purgeSecretHistory } from '../../src/activities/workspace/secret-history';
import { Workspace, listWorkspaces, removeWorkspace } from '../../src/activities/workspace/workspace';
import { createRepo } from '../support/git-fixtures';
import { startGitHttpServer } from '../support/git-http-server';

const BRANCH = 'feature/SHOP-42-coupons';

function spec(origin: string, dataDir: string) {
  return { dataDir, project: 'shop', ticket: 'SHOP-42', repositoryUrl: origin, branch: BRANCH, defaultBranch: 'main' };
}

test('a new item branches from origin main; a commit pushed by another writer is picked up before the next run', async () => {
  const repo = createRepo();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'));
  const ws = await Workspace.prepare(spec(repo.origin, dataDir));
  expect((await ws.git('rev-parse', '--abbrev-ref', 'HEAD')).trim()).toBe(BRANCH);

  fs.writeFileSync(path.join(ws.dir, 'a.md'), 'analysis\n');
  const first = await ws.commitAndPush('docs(SHOP-42): analysis by the analyst agent');
  expect(first.commit).toBeDefined();
  expect(first.head).toBe((await ws.git('rev-parse', 'HEAD')).trim());
  // Nothing changed: no empty commit.
  const unchanged = await ws.commitAndPush('docs(SHOP-42): again');
  expect(unchanged).toEqual({ head: first.head });

  // The security gate pushes its report onto the branch; meanwhile an interrupted run left a file.
  repo.git('fetch', '--quiet', 'origin');
  repo.git('checkout', '--quiet', '-b', BRANCH, `origin/${BRANCH}`);
  repo.commit(BRANCH, { 'docs/report.md': 'PASS\n' }, 'docs(SHOP-42): security report (PASS)');
  fs.writeFileSync(path.join(ws.dir, 'half-done.md'), 'not committed yet\n');

  const again = await Workspace.prepare(spec(repo.origin, dataDir));
  expect(fs.readFileSync(path.join(again.dir, 'docs/report.md'), 'utf8')).toBe('PASS\n');
  expect(fs.readFileSync(path.join(again.dir, 'half-done.md'), 'utf8')).toBe('not committed yet\n');
  const pushed = await again.commitAndPush('docs(SHOP-42): architecture by the architect agent');
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('log', '--format=%s', `origin/${BRANCH}`, '--not', 'origin/main').trim().split('\n')).toEqual([
    'docs(SHOP-42): architecture by the architect agent',
    'docs(SHOP-42): security report (PASS)',
    'docs(SHOP-42): analysis by the analyst agent',
  ]);
  expect(pushed.head).toBe(repo.git('rev-parse', `origin/${BRANCH}`).trim());

  expect(listWorkspaces(dataDir)).toEqual([{ project: 'shop', ticket: 'SHOP-42', dir: ws.dir }]);
  expect(removeWorkspace(dataDir, 'shop', 'SHOP-42')).toBe(true);
  expect(listWorkspaces(dataDir)).toEqual([]);
});

test('a local commit that never reached origin (push failed, worker crashed) is pushed by the next run', async () => {
  const repo = createRepo();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'));
  const ws = await Workspace.prepare(spec(repo.origin, dataDir));
  fs.writeFileSync(path.join(ws.dir, 'b.md'), 'b\n');
  await ws.git('add', '--all');
  await ws.git('commit', '--quiet', '-m', 'docs(SHOP-42): analysis by the analyst agent');

  const next = await Workspace.prepare(spec(repo.origin, dataDir));
  const result = await next.commitAndPush('docs(SHOP-42): analysis by the analyst agent');
  expect(result.commit).toBeUndefined();
  repo.git('fetch', '--quiet', 'origin');
  expect(repo.git('show', `origin/${BRANCH}:b.md`)).toBe('b\n');
});

test('a commit git refuses with changes staged is an error, not "nothing changed"', async () => {
  const repo = createRepo();
  const ws = await Workspace.prepare(spec(repo.origin, fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'))));
  fs.writeFileSync(path.join(ws.dir, 'a.md'), 'analysis\n');
  // Another git holds the branch's ref: the commit cannot move it.
  const lock = path.join(ws.dir, '.git', 'refs', 'heads', `${BRANCH}.lock`);
  fs.writeFileSync(lock, '');
  await expect(ws.commit('docs(SHOP-42): analysis by the analyst agent')).rejects.toThrow(/git commit .*failed/);
  fs.rmSync(lock);
  expect((await ws.commit('docs(SHOP-42): analysis by the analyst agent')).commit).toBeDefined();
});

test('a checkout that is not a repository (a clone cut short) is made again', async () => {
  const repo = createRepo();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'));
  const dir = path.join(dataDir, 'workspaces', 'shop', 'SHOP-42');
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  // A clone this version cut short lies beside the checkout, never in it.
  fs.mkdirSync(path.join(`${dir}.cloning`, '.git'), { recursive: true });
  const ws = await Workspace.prepare(spec(repo.origin, dataDir));
  expect(fs.readFileSync(path.join(ws.dir, 'README.md'), 'utf8')).toBe('# shop\n');
  expect(fs.existsSync(`${dir}.cloning`)).toBe(false);
});

test('origin as the checkout stores it is the URL without credentials, also in a checkout made before', async () => {
  const repo = createRepo();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'));
  const ws = await Workspace.prepare(spec(repo.origin, dataDir));
  expect((await ws.git('remote', 'get-url', 'origin')).trim()).toBe(repo.origin);
  // What an older version could leave after a crash between its clone and its set-url.
  await ws.git('remote', 'set-url', 'origin', 'https://orchestrator:s3cr3t-t0ken@git.example/shop.git');
  const again = await Workspace.prepare(spec(repo.origin, dataDir));
  expect((await again.git('remote', 'get-url', 'origin')).trim()).toBe(repo.origin);
  expect(fs.readFileSync(path.join(again.dir, '.git', 'config'), 'utf8')).not.toContain('s3cr3t');
});

test('credentials in the repository URL reach the git server, never the checkout: clone, fetch, push', async () => {
  const repo = createRepo();
  const server = await startGitHttpServer(path.dirname(repo.origin), 'orchestrator', 's3cr3t-t0ken');
  try {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'));
    const url = `${server.urlWithCredentials}/origin.git`;
    const ws = await Workspace.prepare(spec(url, dataDir));
    expect((await ws.git('remote', 'get-url', 'origin')).trim()).toBe(`${server.url}/origin.git`);
    fs.writeFileSync(path.join(ws.dir, 'a.md'), 'analysis\n');
    const { head } = await ws.commitAndPush('docs(SHOP-42): analysis by the analyst agent');
    // A second run fetches through the URL with credentials.
    await Workspace.prepare(spec(url, dataDir));
    expect(repo.git('ls-remote', repo.origin, `refs/heads/${BRANCH}`).split('\t')[0]).toBe(head);
    // Nothing under .git holds the token, and the URL it stores cannot reach the server alone.
    const gitDir = path.join(ws.dir, '.git');
    const holding = fs
      .readdirSync(gitDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && fs.readFileSync(path.join(e.parentPath, e.name)).includes('s3cr3t'));
    expect(holding.map((e) => e.name)).toEqual([]);
    // Asynchronously: the server answers from this process's event loop.
    await expect(
      promisify(execFile)('git', ['-C', ws.dir, 'fetch', '--quiet', 'origin'], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      }),
    ).rejects.toThrow(/Authentication failed|could not read Username|401/);
  } finally {
    await server.close();
  }
});

describe('a secret removed from the files but left in the history', () => {
  const KEY = ['AKIA', 'QWERTYUIOPASDFGH'].join('');
  async function itemWithSecret() {
    const repo = createRepo();
    const ws = await Workspace.prepare(spec(repo.origin, fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'))));
    fs.writeFileSync(path.join(ws.dir, 'pay.js'), `const awsAccessKeyId = "${KEY}";\n`);
    await ws.commitAndPush('feat(SHOP-42): development by the developer agent');
    return { repo, ws };
  }
  const history = (repo: ReturnType<typeof createRepo>) => (
    repo.git('fetch', '--quiet', '--force', 'origin', `+refs/heads/*:refs/remotes/origin/*`),
    repo.git('log', '-p', `origin/${BRANCH}`, '--not', 'origin/main')
  );

  test('is squashed out of the item branch, which is pushed over its old head', async () => {
    const { repo, ws } = await itemWithSecret();
    const again = await Workspace.prepare(spec(repo.origin, path.dirname(path.dirname(path.dirname(ws.dir)))));
    fs.writeFileSync(path.join(again.dir, 'pay.js'), 'const awsAccessKeyId = process.env.AWS_ACCESS_KEY_ID;\n');
    const { head } = await again.commit('feat(SHOP-42): development by the developer agent (attempt 2)');
    const purge = await purgeSecretHistory(
      again,
      'main',
      'feat(SHOP-42): development by the developer agent (attempt 2)',
    );
    expect(purge).toEqual({
      squashed: true,
      head: expect.stringMatching(/^[0-9a-f]{40}$/),
      detail: expect.stringMatching(
        /^a secret removed from the files was still in the item's history \(pay\.js:1 \(commit [0-9a-f]{12}\)\): its commits were squashed into [0-9a-f]{12}; rotate that secret$/,
      ),
    });
    expect(purge.head).not.toBe(head);
    await again.push(purge.head as string);
    expect(history(repo)).not.toContain(KEY);
    expect(repo.git('log', '--format=%s', `origin/${BRANCH}`, '--not', 'origin/main').trim()).toBe(
      'feat(SHOP-42): development by the developer agent (attempt 2)',
    );
  });

  test('still in the files: nothing is rewritten (the gate reports it); no secret: nothing either', async () => {
    const { repo, ws } = await itemWithSecret();
    const head = (await ws.git('rev-parse', 'HEAD')).trim();
    expect(await purgeSecretHistory(ws, 'main', 'x')).toEqual({ squashed: false });
    expect((await ws.git('rev-parse', 'HEAD')).trim()).toBe(head);
    const clean = createRepo();
    const cleanWs = await Workspace.prepare(spec(clean.origin, fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ws-'))));
    fs.writeFileSync(path.join(cleanWs.dir, 'a.js'), 'module.exports = 2;\n');
    await cleanWs.commitAndPush('feat: a');
    expect(await purgeSecretHistory(cleanWs, 'main', 'x')).toEqual({ squashed: false });
    expect(history(repo)).toContain(KEY);
  });
});
