// Group commit for the API's journal appends (#15). A durable append waits for the disk (an
// fsync, about a millisecond here) and better-sqlite3 waits on the event loop, so deliveries
// appended one by one queue behind each other's syncs. The deliveries that arrive in the same
// turn of the event loop (under load, those that came in while the last sync blocked it) are
// written in one transaction and share one sync. Each still hears 202 only once it is on disk.
import type { AppendResult, IntakeJournal, NewEntry } from './journal';

interface Waiting {
  readonly entry: NewEntry;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export class GroupedAppends {
  private waiting: Waiting[] = [];

  constructor(private readonly journal: Pick<IntakeJournal, 'appendMany'>) {}

  /** Resolves once the entry (or the one an earlier delivery of it made) is on disk. */
  append(entry: NewEntry): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    let results: ReturnType<IntakeJournal['appendMany']>;
    try {
      results = this.journal.appendMany(batch.map((w) => w.entry));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const result = results[i]!;
      if (result instanceof Error) w.reject(result);
      else w.resolve(result);
    });
  }
}
