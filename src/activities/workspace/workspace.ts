// The work item's own checkout of the project's repository, where its agents work: one clone per
// item under <data>/workspaces/<project>/<ticket>, on the item's branch, reused across stages and
// retries. Other writers push to the same branch (the security gate commits its report), so the
// checkout is brought up to date with origin before every run.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_KEY_PATTERN, TICKET_ID_PATTERN } from '../../domain/ids';
import { GitError, ensureClone, gitSucceeds, partialCloneDir, runGit } from '../git/repository';
import { headFromFiles, refsFromFiles } from '../git/ref-files';

export interface WorkspaceSpec {
  readonly dataDir: string;
  readonly project: string;
  readonly ticket: string;
  readonly repositoryUrl: string;
  readonly branch: string;
  readonly defaultBranch: string;
}

export function workspacesRoot(dataDir: string): string {
  return path.join(dataDir, 'workspaces');
}

export function workspaceDir(dataDir: string, project: string, ticket: string): string {
  return path.join(workspacesRoot(dataDir), project, ticket);
}

/**
 * The Claude Code CLI's HOME for one item: its sessions and nothing of any other item's. Under
 * the data directory, so a session survives a worker restart and the next attempt resumes it.
 */
export function agentHomeDir(dataDir: string, project: string, ticket: string): string {
  return path.join(dataDir, 'agent-homes', project, ticket);
}

export class Workspace {
  /** Origin's head of the branch when the checkout was prepared ('' when it had none): the push's lease. */
  private remoteHead = '';

  private constructor(
    readonly dir: string,
    readonly branch: string,
    /** With its credentials: kept in memory, never in the checkout the agent can read. */
    private readonly url: string,
  ) {}

  /**
   * Clones (once), fetches, and checks out the item's branch: origin's copy when it exists (with
   * local commits that never reached origin replayed on top and uncommitted work kept), else a
   * new branch from origin's default branch.
   */
  static async prepare(spec: WorkspaceSpec): Promise<Workspace> {
    const dir = workspaceDir(spec.dataDir, spec.project, spec.ticket);
    // A clone interrupted by a crash leaves a directory that is not a repository: made again.
    // The agent reads this checkout's .git/config: the stored origin carries no credentials.
    const storedOrigin = withoutCredentials(spec.repositoryUrl);
    const cloned = await ensureClone(spec.repositoryUrl, dir, storedOrigin);
    const ws = new Workspace(dir, spec.branch, spec.repositoryUrl);
    // A clone made just now holds origin as it is; an older one is brought up to date.
    if (!cloned) {
      await ws.storeOrigin(storedOrigin);
      await ws.git('fetch', '--quiet', '--prune', ws.url, '+refs/heads/*:refs/remotes/origin/*');
    }
    const remote = `refs/remotes/origin/${spec.branch}`;
    const local = `refs/heads/${spec.branch}`;
    const heads = await ws.commitsAt([remote, local]);
    ws.remoteHead = heads.get(remote) ?? '';
    if (heads.has(local)) {
      await ws.git('checkout', '--quiet', spec.branch);
      if (heads.has(remote)) await ws.catchUp(remote);
    } else if (heads.has(remote)) {
      await ws.git('checkout', '--quiet', '-b', spec.branch, remote);
    } else {
      await ws.git('checkout', '--quiet', '-b', spec.branch, `refs/remotes/origin/${spec.defaultBranch}`);
    }
    return ws;
  }

  /** Commits everything the agent left (`commit` undefined when nothing changed); `head` is HEAD after it. */
  async commit(message: string): Promise<{ readonly commit?: string; readonly head: string }> {
    await this.git('add', '--all');
    // Committing is the usual case, so it is tried first; git refuses when nothing is staged,
    // and only then is the index asked whether that was the reason.
    const committed = await this.git('commit', '--quiet', '-m', message).then(
      () => true,
      async (err: unknown) => {
        if (await this.succeeds('diff', '--cached', '--quiet')) return false;
        throw err;
      },
    );
    const head = headFromFiles(path.join(this.dir, '.git')) ?? (await this.git('rev-parse', 'HEAD')).trim();
    return committed ? { commit: head, head } : { head };
  }

  /**
   * Pushes the branch, leased on origin's head as it was when the checkout was prepared: a
   * rewritten branch (squashed) replaces it, and a branch someone moved meanwhile is refused
   * (the retry prepares again). Pushing an up-to-date branch is a no-op.
   */
  async push(head: string): Promise<string> {
    await this.git(
      'push',
      '--quiet',
      `--force-with-lease=refs/heads/${this.branch}:${this.remoteHead}`,
      this.url,
      `${head}:refs/heads/${this.branch}`,
    );
    this.remoteHead = head;
    return head;
  }

  async commitAndPush(message: string): Promise<{ readonly commit?: string; readonly head: string }> {
    const committed = await this.commit(message);
    await this.push(committed.head);
    return committed;
  }

  /** Replaces the item's commits since `base` with one commit of the same files. */
  async squashSince(base: string, message: string): Promise<string> {
    const tree = (await this.git('rev-parse', 'HEAD^{tree}')).trim();
    const squashed = (
      await runGit(['-C', this.dir, ...UNTRUSTED_CHECKOUT, 'commit-tree', tree, '-p', base, '-m', message])
    ).trim();
    await this.git('update-ref', `refs/heads/${this.branch}`, squashed);
    return squashed;
  }

  /** A file at a ref; undefined when it is not there. */
  async show(ref: string, file: string): Promise<string | undefined> {
    try {
      return await this.git('show', `${ref}:${file}`);
    } catch {
      return undefined;
    }
  }

  /** Files under `dir` (relative to the checkout) that exist in the working tree. */
  listFiles(dir: string): string[] {
    const abs = path.join(this.dir, dir);
    if (!fs.existsSync(abs)) return [];
    return fs
      .readdirSync(abs, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(this.dir, path.join(e.parentPath, e.name)))
      .sort();
  }

  /**
   * Git in the checkout, outside the sandbox: the agent may have left anything in the working
   * tree, so no hooks and no fsmonitor run (its .git was read-only to it, this is the second wall).
   */
  git(...args: string[]): Promise<string> {
    return runGit(['-C', this.dir, ...UNTRUSTED_CHECKOUT, ...args]);
  }

  /**
   * Sets origin's stored URL unless .git/config already holds it (read as a file: no git call).
   * Checkouts made before clones were moved into place whole, or after the project's repository
   * moved, get it here.
   */
  private async storeOrigin(url: string): Promise<void> {
    const config = fs.readFileSync(path.join(this.dir, '.git', 'config'), 'utf8');
    const stored = /^\[remote "origin"\]\n(?:\s+[^[\n]*\n)*?\s+url = (.*)$/m.exec(config)?.[1];
    if (stored !== url) await this.git('remote', 'set-url', 'origin', url);
  }

  /**
   * Replays local commits that never reached origin on top of origin's branch, keeping
   * uncommitted work (a run interrupted by a crash leaves files the resumed session expects).
   */
  private async catchUp(remote: string): Promise<void> {
    try {
      await this.git('rebase', '--quiet', '--autostash', remote);
    } catch (err) {
      await this.git('rebase', '--abort').catch(() => undefined);
      throw new GitError(
        `the checkout of ${this.branch} cannot be brought up to date with origin: ${(err as Error).message}`,
      );
    }
  }

  /** The commit each of `refs` points at, for those that exist: from the files, else one git call for all of them. */
  private async commitsAt(refs: readonly string[]): Promise<Map<string, string>> {
    const fromFiles = refsFromFiles(path.join(this.dir, '.git'), refs);
    if (fromFiles) return fromFiles;
    const out = await this.git('for-each-ref', '--format=%(refname) %(objectname) %(objecttype)', ...refs);
    const found = new Map<string, string>();
    for (const line of out.split('\n')) {
      const [name, sha, type] = line.split(' ');
      // for-each-ref matches prefixes too (refs/heads/a matches refs/heads/a/b): exact names only.
      if (name && sha && type === 'commit' && refs.includes(name)) found.set(name, sha);
    }
    return found;
  }

  private succeeds(...args: string[]): Promise<boolean> {
    return gitSucceeds(['-C', this.dir, ...UNTRUSTED_CHECKOUT, ...args]);
  }
}

const UNTRUSTED_CHECKOUT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** `https://user:token@host/repo` → `https://host/repo`; other forms are returned as they are. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, '$1');
}

/** Removes an item's checkout and its agents' HOME; true when there was a checkout. */
export function removeWorkspace(dataDir: string, project: string, ticket: string): boolean {
  fs.rmSync(agentHomeDir(dataDir, project, ticket), { recursive: true, force: true });
  fs.rmSync(path.join(dataDir, 'agent-incidents', project, ticket), { recursive: true, force: true });
  const dir = workspaceDir(dataDir, project, ticket);
  fs.rmSync(partialCloneDir(dir), { recursive: true, force: true });
  if (!fs.existsSync(dir)) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}

export interface WorkspaceEntry {
  readonly project: string;
  readonly ticket: string;
  readonly dir: string;
}

/** Every checkout on this machine, for the cleanup command; anything else found there is left alone. */
export function listWorkspaces(dataDir: string): WorkspaceEntry[] {
  const root = workspacesRoot(dataDir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((p) => p.isDirectory() && PROJECT_KEY_PATTERN.test(p.name))
    .flatMap((p) =>
      fs
        .readdirSync(path.join(root, p.name), { withFileTypes: true })
        .filter((t) => t.isDirectory() && TICKET_ID_PATTERN.test(t.name))
        .map((t) => ({ project: p.name, ticket: t.name, dir: path.join(root, p.name, t.name) })),
    );
}
