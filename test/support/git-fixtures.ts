// Real git repositories for gate tests: a bare origin and a working clone to commit from.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

export interface TestRepo {
  readonly origin: string;
  readonly work: string;
  git(...args: string[]): string;
  /** Writes files, commits them on `branch` (created from main when new) and pushes. */
  commit(branch: string, files: Record<string, string>, message?: string): string;
}

export function createRepo(
  initial: Record<string, string> = {
    'README.md': '# shop\n',
    'CHANGELOG.md': '# Changelog\n',
    'src/index.js': 'module.exports = 1;\n',
  },
): TestRepo {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-repo-'));
  const origin = path.join(root, 'origin.git');
  const work = path.join(root, 'work');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: work, env: ENV, encoding: 'utf8' });
  execFileSync('git', ['init', '--bare', '--quiet', '--initial-branch=main', origin]);
  execFileSync('git', ['clone', '--quiet', origin, work], { env: ENV });
  execFileSync('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: work, env: ENV });
  const repo: TestRepo = {
    origin,
    work,
    git,
    commit(branch, files, message = `change on ${branch}`) {
      const current = git('symbolic-ref', '--short', 'HEAD').trim();
      if (current !== branch) {
        const exists = git('branch', '--list', branch).trim() !== '';
        git('checkout', '--quiet', ...(exists ? [branch] : ['-b', branch, 'main']));
      }
      for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
        fs.writeFileSync(path.join(work, file), content);
      }
      git('add', '-A');
      git('commit', '--quiet', '-m', message);
      git('push', '--quiet', 'origin', branch);
      return git('rev-parse', 'HEAD').trim();
    },
  };
  repo.commit('main', initial, 'initial commit');
  return repo;
}
