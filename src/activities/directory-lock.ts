// One user at a time of a directory that activities on one machine share: a project's build
// checkout (builds, deploys and rollbacks check out a commit there and run in it) and its bare git
// mirror (fetches take ref locks). A host runs several build activities at once, and during an
// upgrade the old and the new build run side by side on one data directory, so an in-process
// queue is not enough. The lock is a directory beside the one it guards (proper-lockfile: an
// atomic mkdir whose holder keeps its mtime fresh), so it also holds between containers sharing a
// volume, and one whose holder died without releasing it (SIGKILL) is taken over once stale.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from '@temporalio/activity';
import lockfile from 'proper-lockfile';
import { createLogger } from '../util/logger';

/** A holder that stopped refreshing the lock this long ago is gone (killed): its lock is taken over. */
const STALE_MS = 30_000;
/** How often the holder refreshes the lock: well inside STALE_MS, even on a busy event loop. */
const REFRESH_MS = 5_000;
/** Longest pause between two tries while another holder has it. */
const MAX_PAUSE_MS = 1_000;

/**
 * Runs `work` while holding `dir`'s lock, waiting for another holder to finish first. Waiting ends
 * early only when `signal` aborts (the activity was cancelled); the activity's own timeout is the
 * backstop for a holder that never finishes, as it is for the work itself.
 */
export async function withDirectoryLock<T>(dir: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const release = await acquire(dir, signal);
  try {
    return await work();
  } finally {
    await release().catch((err: Error) => warn('directory lock release failed', { dir, error: err.message }));
  }
}

async function acquire(dir: string, signal: AbortSignal | undefined): Promise<() => Promise<void>> {
  for (let pause = 50; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    signal?.throwIfAborted();
    try {
      return await lockfile.lock(dir, {
        realpath: false,
        stale: STALE_MS,
        update: REFRESH_MS,
        // The default throws from a timer, which would end the worker process. The holder's
        // work goes on: it has the directory to itself unless a waiter took the lock as stale.
        onCompromised: (err) => warn('directory lock compromised', { dir, error: err.message }),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      await sleep(pause, undefined, signal ? { signal } : {});
    }
  }
}

/** Lines outside an activity (a test, a timer that outlived it) go to stderr, structured as well. */
const outside = createLogger({ write: (line) => process.stderr.write(`${line}\n`) });

function warn(message: string, fields: Record<string, unknown>): void {
  try {
    log.warn(message, fields);
  } catch {
    outside.warn(message, fields);
  }
}
