// A fingerprint of what the agent changed in a checkout: the paths git reports as changed or new,
// with their sizes and modification times. Two equal fingerprints mean no file changed between
// them (the loop detector's "turns without change"); the paths are what a run lost with its host
// had changed (ADR-0021). Git runs with fsmonitor off: the checkout's content is the agent's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadExeca } from '../../util/execa';

export interface WorkspaceFingerprint {
  readonly digest: string;
  /** The changed and new paths, as git reports them. */
  readonly files: readonly string[];
}

export async function workspaceFingerprint(dir: string): Promise<WorkspaceFingerprint> {
  const { execa } = await loadExeca();
  const status = await execa(
    'git',
    ['-C', dir, '-c', 'core.fsmonitor=false', 'status', '--porcelain=v1', '-z', '-uall'],
    { reject: false },
  );
  const hash = crypto.createHash('sha256');
  const files: string[] = [];
  for (const entry of String(status.stdout).split('\0').filter(Boolean)) {
    const file = entry.slice(3);
    files.push(file);
    let stamp = 'gone';
    try {
      const stat = fs.lstatSync(path.join(dir, file));
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch {
      // Deleted: the status line says so.
    }
    hash.update(`${entry}\0${stamp}\0`);
  }
  return { digest: hash.digest('hex'), files };
}
