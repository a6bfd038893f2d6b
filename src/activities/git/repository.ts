// Read access to a project's repository for gates: a bare mirror under <data>/repos/, fetched
// before each use. Gates read files and diffs at refs; they never need a working tree.
import fs from 'node:fs';
import path from 'node:path';
import { headFromFiles } from './ref-files';
import { loadExeca } from '../../util/execa';
import { withDirectoryLock } from '../directory-lock';
import { redactUrls } from '../../util/redact-urls';

const locks = new Map<string, Promise<unknown>>();

/** Serialises git operations on one mirror within this process (fetches take ref locks). */
function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  locks.set(
    key,
    next.catch(() => undefined),
  );
  return next;
}

/** Writes to a mirror, one at a time: in this process in call order, and against other processes on this machine. */
function lockedMirror<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  return withLock(dir, () => withDirectoryLock(dir, fn));
}

/** The bare mirror of a project's repository that gates and deploys read from. */
export function mirrorDir(dataDir: string, project: string): string {
  return path.join(dataDir, 'repos', `${project}.git`);
}

export class GitError extends Error {
  override readonly name = 'GitError';
}

export class GitMirror {
  private constructor(readonly dir: string) {}

  /** Clones (once) and fetches every branch of `url` into a bare mirror at `dir`. */
  static async sync(url: string, dir: string): Promise<GitMirror> {
    return lockedMirror(dir, async () => {
      const mirror = new GitMirror(dir);
      if (!fs.existsSync(path.join(dir, 'HEAD'))) {
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        await runGit(['clone', '--bare', '--quiet', url, dir]);
      }
      await mirror.git(['fetch', '--quiet', '--prune', '--force', url, '+refs/heads/*:refs/heads/*']);
      return mirror;
    });
  }

  async git(args: string[], input?: string): Promise<string> {
    return runGit(['-C', this.dir, ...args], input);
  }

  /** The file's content at `ref`, or undefined when it does not exist there. */
  async show(ref: string, file: string): Promise<string | undefined> {
    const { execa } = await loadExeca();
    const result = await execa('git', ['-C', this.dir, 'show', `${ref}:${file}`], {
      reject: false,
      stripFinalNewline: false,
    });
    return result.exitCode === 0 ? String(result.stdout) : undefined;
  }

  async listDir(ref: string, dir: string): Promise<string[]> {
    const { execa } = await loadExeca();
    const result = await execa('git', ['-C', this.dir, 'ls-tree', '--name-only', `${ref}:${dir.replace(/\/$/, '')}`], {
      reject: false,
    });
    return result.exitCode === 0 ? String(result.stdout).split('\n').filter(Boolean) : [];
  }

  async hasRef(ref: string): Promise<boolean> {
    const { execa } = await loadExeca();
    return (
      (await execa('git', ['-C', this.dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { reject: false }))
        .exitCode === 0
    );
  }

  async resolve(ref: string): Promise<string> {
    return (await this.git(['rev-parse', `${ref}^{commit}`])).trim();
  }

  /** Files changed on `ref` since it left `base` (three-dot diff). */
  async changedFiles(base: string, ref: string): Promise<string[]> {
    return (await this.git(['diff', '--name-only', `${base}...${ref}`])).split('\n').filter(Boolean);
  }

  /**
   * Commits one file onto `branch` without a working tree and pushes it to `url`'s same branch
   * (never the default branch: the caller passes the item's branch).
   */
  async commitFile(url: string, branch: string, file: string, content: string, message: string): Promise<string> {
    return lockedMirror(this.dir, async () => {
      const parent = await this.resolve(`refs/heads/${branch}`);
      const blob = (await this.git(['hash-object', '-w', '--stdin'], content)).trim();
      const index = path.join(this.dir, `index-${process.pid}-${Date.now()}`);
      try {
        await runGit(['-C', this.dir, 'read-tree', parent], undefined, { GIT_INDEX_FILE: index });
        await runGit(['-C', this.dir, 'update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], undefined, {
          GIT_INDEX_FILE: index,
        });
        const tree = (await runGit(['-C', this.dir, 'write-tree'], undefined, { GIT_INDEX_FILE: index })).trim();
        const commit = (await this.git(['commit-tree', tree, '-p', parent, '-m', message])).trim();
        await this.git(['push', '--quiet', url, `${commit}:refs/heads/${branch}`]);
        await this.git(['update-ref', `refs/heads/${branch}`, commit, parent]);
        return commit;
      } finally {
        fs.rmSync(index, { force: true });
      }
    });
  }
}

/** The identity of the orchestrator's own commits (stage results, reports). */
export const IDENTITY = {
  GIT_AUTHOR_NAME: 'Temporal orchestrator',
  GIT_AUTHOR_EMAIL: 'orchestrator@localhost',
  GIT_COMMITTER_NAME: 'Temporal orchestrator',
  GIT_COMMITTER_EMAIL: 'orchestrator@localhost',
};

export { redactUrls } from '../../util/redact-urls';

/** Whether a git command succeeds (a question like `merge-base --is-ancestor`), never throwing. */
export async function gitSucceeds(args: string[]): Promise<boolean> {
  try {
    await runGit(args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Clones `url` into `dir` unless a usable clone is there (one whose HEAD names a commit); true
 * when it cloned just now. The clone is made beside `dir` and moved into place only when whole,
 * with origin stored as `storedOrigin` when one is given (a URL without credentials, for a
 * checkout an agent reads).
 */
export async function ensureClone(url: string, dir: string, storedOrigin?: string): Promise<boolean> {
  if (
    fs.existsSync(path.join(dir, '.git')) &&
    (headFromFiles(path.join(dir, '.git')) !== undefined ||
      (await gitSucceeds(['-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD'])))
  )
    return false;
  const partial = partialCloneDir(dir);
  fs.rmSync(partial, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  if (storedOrigin === undefined || storedOrigin === url) {
    await runGit(['clone', '--quiet', url, partial]);
  } else {
    // Clones the stored URL, which git rewrites to the one with credentials for this command
    // only: the clone stores the URL as given, with no second git call to replace it. Passed in
    // the environment, not as `-c`: a token may hold '=', and it stays out of the process list.
    await runGit(['clone', '--quiet', storedOrigin, partial], undefined, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `url.${url}.insteadOf`,
      GIT_CONFIG_VALUE_0: storedOrigin,
    });
  }
  fs.renameSync(partial, dir);
  return true;
}

/** Where `ensureClone` makes a clone before moving it into place (left behind only by a crash). */
export function partialCloneDir(dir: string): string {
  return `${dir}.cloning`;
}

/** Runs git with the orchestrator's identity; a failure's message never repeats credentials. */
export async function runGit(args: string[], input?: string, env: Record<string, string> = {}): Promise<string> {
  const { execa } = await loadExeca();
  const result = await execa('git', args, { input, reject: false, env: { ...IDENTITY, ...env } });
  if (result.exitCode !== 0) {
    const verb = gitVerb(args);
    throw new GitError(
      `git ${verb} failed: ${redactUrls(String(result.stderr).trim().split('\n').slice(-2).join(' '))}`,
    );
  }
  return String(result.stdout);
}

/** The subcommand and its first words, for messages: no `-C`/`-c` settings, paths or URLs. */
function gitVerb(args: readonly string[]): string {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-C' || arg === '-c') i += 1;
    else if (!arg.startsWith('/') && !arg.includes('://')) words.push(arg);
  }
  return words.slice(0, 3).join(' ');
}
