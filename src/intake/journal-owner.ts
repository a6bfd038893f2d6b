// One API forwards a journal. A second API process on the same data directory would forward the
// same entries beside the first: harmless to the work items (the idempotency key), but a lane's
// order would no longer hold. The owner writes its pid next to the journal, exclusively; a file
// naming a process that no longer runs (a killed API) is taken over.
import fs from 'node:fs';

export class JournalInUseError extends Error {
  override readonly name = 'JournalInUseError';
}

/** Claims `journal` for this process; returns the release. Throws when a live process owns it. */
export function claimJournal(journal: string, pid = process.pid): () => void {
  const lock = `${journal}.owner`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lock, `${pid}\n`, { flag: 'wx' });
      return () => {
        if (ownerOf(lock) === pid) fs.rmSync(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = ownerOf(lock);
    if (owner !== undefined && owner !== pid && runsNode(owner)) {
      throw new JournalInUseError(
        `the intake journal ${journal} is already forwarded by process ${owner}: run one API per ORCH_DATA_DIR`,
      );
    }
    // Left by a process that is gone (or by this very pid, restarted in a new container).
    fs.rmSync(lock, { force: true });
  }
  throw new JournalInUseError(`could not claim the intake journal ${journal}`);
}

function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A live Node process (a recycled pid running something else is no owner). */
function runsNode(pid: number): boolean {
  try {
    return /node/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}
