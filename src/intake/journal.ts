// The intake journal: every accepted webhook delivery, written to SQLite (WAL) before the sender
// gets its 202, and kept until the forwarder has handed it to Temporal (ADR-0016). The API owns
// the file; `orch intake` opens the same file to show and act on dead letters (WAL lets both
// read and write at once).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** pending: to be forwarded; done: Temporal took it (or it needed nothing); dead: a person decides. */
export type EntryState = 'pending' | 'done' | 'dead' | 'discarded';

export interface JournalEntry {
  readonly id: number;
  /** The delivery's dedup key (source + body hash): also the idempotency key towards Temporal. */
  readonly key: string;
  /** Entries of one lane (one work item) are forwarded one at a time, in id order. */
  readonly lane: string;
  readonly source: string;
  readonly event: string;
  /** The sender's delivery id, capped: for people, never for logic. */
  readonly deliveryId: string | null;
  readonly receivedAt: number;
  /** The delivery's JSON body, as received. */
  readonly payload: string;
  /** The mapped action (JSON), or null while the tracker could not be asked in time. */
  readonly action: string | null;
  readonly state: EntryState;
  readonly attempts: number;
  readonly nextAt: number;
  readonly lastError: string | null;
  readonly outcome: string | null;
  readonly doneAt: number | null;
  /** The delivery's trace context (src/telemetry/trace-context.ts), when it was traced. */
  readonly traceContext: string | null;
}

export interface NewEntry {
  readonly key: string;
  readonly lane: string;
  readonly source: string;
  readonly event: string;
  readonly deliveryId?: string;
  readonly payload: string;
  readonly action?: string;
  /** Journalled straight to the dead letters (a configuration problem found while mapping). */
  readonly deadReason?: string;
  readonly traceContext?: string;
}

export type AppendResult =
  | { readonly kind: 'appended'; readonly entry: JournalEntry }
  | { readonly kind: 'duplicate'; readonly entry: JournalEntry };

export interface JournalStats {
  readonly backlog: number;
  /** Receive time of the oldest pending entry. */
  readonly oldestReceivedAt?: number;
  readonly deadLetters: number;
}

/** Thrown instead of a write when the backlog is at its cap: the sender gets 503, nothing is lost. */
export class JournalFullError extends Error {
  override readonly name = 'JournalFullError';
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  lane TEXT NOT NULL,
  source TEXT NOT NULL,
  event TEXT NOT NULL,
  delivery_id TEXT,
  received_at INTEGER NOT NULL,
  payload TEXT NOT NULL,
  action TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead', 'discarded')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  outcome TEXT,
  done_at INTEGER,
  trace_context TEXT
);
CREATE INDEX IF NOT EXISTS entries_by_state_lane ON entries (state, lane, id);
CREATE INDEX IF NOT EXISTS entries_done_at ON entries (state, done_at);
`;

const COLUMNS = `id, key, lane, source, event, delivery_id AS deliveryId, received_at AS receivedAt, payload, action,
  state, attempts, next_at AS nextAt, last_error AS lastError, outcome, done_at AS doneAt,
  trace_context AS traceContext`;

export interface JournalOptions {
  /** 'full' survives a power cut (an fsync per write); 'normal' survives a crash of the process. */
  readonly sync?: 'full' | 'normal';
  /** Pending entries at most; past it deliveries are refused (503) rather than the disk filled. */
  readonly maxBacklog?: number;
  /** Open an existing journal only (`orch intake`): never create one where the API keeps none. */
  readonly mustExist?: boolean;
  readonly now?: () => number;
}

export class IntakeJournal {
  private readonly db: Database.Database;
  private readonly bookkeeping: Database.Database;
  private readonly now: () => number;
  private readonly maxBacklog: number;
  private readonly statements;
  private counted = { at: Number.NEGATIVE_INFINITY, backlog: 0 };

  constructor(
    readonly file: string,
    options: JournalOptions = {},
  ) {
    if (!options.mustExist) fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { fileMustExist: options.mustExist === true });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
    // The CLI and the API may write at once: wait for the other's lock instead of failing.
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(SCHEMA);
    addMissingColumns(this.db);
    // Bookkeeping after an append (done, retry, resolved, dead) goes through a second connection
    // that does not wait for the disk: if a crash loses such a write, the entry is forwarded
    // again under the same idempotency key, to the same effect. Only the append must be on disk
    // before the sender hears 202.
    this.bookkeeping = new Database(file, { fileMustExist: true });
    this.bookkeeping.pragma('synchronous = NORMAL');
    this.bookkeeping.pragma('busy_timeout = 2000');
    this.now = options.now ?? Date.now;
    this.maxBacklog = options.maxBacklog ?? 100_000;
    const db = this.db;
    const lazy = this.bookkeeping;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO entries (key, lane, source, event, delivery_id, received_at, payload, action, state, next_at, last_error, trace_context)
         VALUES (@key, @lane, @source, @event, @deliveryId, @receivedAt, @payload, @action, @state, @receivedAt, @lastError, @traceContext)
         ON CONFLICT (key) DO NOTHING`,
      ),
      byKey: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE key = ?`),
      byId: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE id = ?`),
      backlog: db.prepare(`SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM entries WHERE state = 'pending'`),
      dead: db.prepare(`SELECT COUNT(*) AS n FROM entries WHERE state = 'dead'`),
      heads: db.prepare(
        `SELECT ${COLUMNS} FROM entries WHERE id IN
           (SELECT MIN(id) FROM entries WHERE state = 'pending' GROUP BY lane)
         AND next_at <= ? ORDER BY id LIMIT ?`,
      ),
      laneHead: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE state = 'pending' AND lane = ? ORDER BY id LIMIT 1`),
      olderPending: db.prepare(`SELECT 1 FROM entries WHERE state = 'pending' AND lane = ? AND id < ? LIMIT 1`),
      done: lazy.prepare(
        `UPDATE entries SET state = 'done', outcome = ?, attempts = attempts + 1, done_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      resolve: lazy.prepare(`UPDATE entries SET action = ? WHERE id = ? AND state = 'pending'`),
      retry: lazy.prepare(
        `UPDATE entries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ? AND state = 'pending'`,
      ),
      bury: lazy.prepare(
        `UPDATE entries SET state = 'dead', attempts = attempts + 1, last_error = ?, done_at = ? WHERE id = ? AND state = 'pending'`,
      ),
      revive: db.prepare(
        `UPDATE entries SET state = 'pending', next_at = ?, done_at = NULL WHERE id = ? AND state = 'dead'`,
      ),
      discard: db.prepare(
        `UPDATE entries SET state = 'discarded', outcome = ?, done_at = ? WHERE id = ? AND state = 'dead'`,
      ),
      listDead: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE state = 'dead' ORDER BY id LIMIT ?`),
      listPending: db.prepare(`SELECT ${COLUMNS} FROM entries WHERE state = 'pending' ORDER BY id LIMIT ?`),
      prune: db.prepare(`DELETE FROM entries WHERE state IN ('done', 'discarded') AND done_at < ?`),
    };
  }

  /** Writes a delivery, or finds the entry an earlier delivery of the same body made. */
  append(entry: NewEntry): AppendResult {
    const existing = this.byKey(entry.key);
    if (existing) return { kind: 'duplicate', entry: existing };
    if (entry.deadReason === undefined && this.approximateBacklog() >= this.maxBacklog)
      throw new JournalFullError(`the intake journal holds ${this.maxBacklog} pending deliveries`);
    const receivedAt = this.now();
    const result = this.statements.insert.run({
      key: entry.key,
      lane: entry.lane,
      source: entry.source,
      event: entry.event,
      deliveryId: entry.deliveryId ?? null,
      receivedAt,
      payload: entry.payload,
      action: entry.action ?? null,
      state: entry.deadReason === undefined ? 'pending' : 'dead',
      lastError: entry.deadReason ?? null,
      traceContext: entry.traceContext ?? null,
    });
    if (result.changes === 1 && entry.deadReason === undefined) this.counted.backlog++;
    // A concurrent writer (another process on the same file) may have won the key meanwhile.
    const stored = result.changes === 1 ? this.get(Number(result.lastInsertRowid)) : this.byKey(entry.key);
    return { kind: result.changes === 1 ? 'appended' : 'duplicate', entry: stored! };
  }

  /**
   * Writes several deliveries in one transaction: one disk sync for all (group commit). Each
   * gets its own result, or the JournalFullError that refused it alone; any other failure
   * throws and writes none of them.
   */
  appendMany(entries: readonly NewEntry[]): (AppendResult | JournalFullError)[] {
    try {
      return this.db.transaction(() =>
        entries.map((entry) => {
          try {
            return this.append(entry);
          } catch (err) {
            if (err instanceof JournalFullError) return err;
            throw err;
          }
        }),
      )();
    } catch (err) {
      // Rolled back: the backlog counted for its entries is counted again at the next append.
      this.counted = { at: Number.NEGATIVE_INFINITY, backlog: 0 };
      throw err;
    }
  }

  /**
   * The backlog for the cap, counted at most once a second: counting is a scan, and a write
   * per delivery must not scan a backlog of thousands. New entries are added as they come.
   */
  private approximateBacklog(): number {
    if (this.now() - this.counted.at >= 1000) this.counted = { at: this.now(), backlog: this.stats().backlog };
    return this.counted.backlog;
  }

  get(id: number): JournalEntry | undefined {
    return this.statements.byId.get(id) as JournalEntry | undefined;
  }

  byKey(key: string): JournalEntry | undefined {
    return this.statements.byKey.get(key) as JournalEntry | undefined;
  }

  /** The oldest pending entry of each lane that is due now, oldest first. */
  dueHeads(limit: number): JournalEntry[] {
    return this.statements.heads.all(this.now(), limit) as JournalEntry[];
  }

  /** The oldest pending entry of one lane. */
  laneHead(lane: string): JournalEntry | undefined {
    return this.statements.laneHead.get(lane) as JournalEntry | undefined;
  }

  /** True when an older entry of the same lane is still pending (the new one must wait for it). */
  hasOlderPending(lane: string, id: number): boolean {
    return this.statements.olderPending.get(lane, id) !== undefined;
  }

  markDone(id: number, outcome: string): void {
    this.statements.done.run(outcome, this.now(), id);
  }

  /** Records the action the forwarder mapped an unresolved delivery to. */
  markResolved(id: number, action: string): void {
    this.statements.resolve.run(action, id);
  }

  markRetry(id: number, delayMs: number, error: string): void {
    this.statements.retry.run(this.now() + delayMs, error.slice(0, 2000), id);
  }

  markDead(id: number, error: string): void {
    this.statements.bury.run(error.slice(0, 2000), this.now(), id);
  }

  /** A dead letter goes back to its lane, due now. False when it is not a dead letter. */
  revive(id: number): boolean {
    return this.statements.revive.run(this.now(), id).changes === 1;
  }

  /** A dead letter is dropped on a person's word, noted as the outcome (kept until pruned, for the record). */
  discard(id: number, note = 'discarded'): boolean {
    return this.statements.discard.run(note.slice(0, 500), this.now(), id).changes === 1;
  }

  deadLetters(limit = 100): JournalEntry[] {
    return this.statements.listDead.all(limit) as JournalEntry[];
  }

  pending(limit = 100): JournalEntry[] {
    return this.statements.listPending.all(limit) as JournalEntry[];
  }

  stats(): JournalStats {
    const backlog = this.statements.backlog.get() as { n: number; oldest: number | null };
    const dead = this.statements.dead.get() as { n: number };
    return { backlog: backlog.n, oldestReceivedAt: backlog.oldest ?? undefined, deadLetters: dead.n };
  }

  /** Forgets finished entries older than `retentionMs`; returns how many. */
  prune(retentionMs: number): number {
    return this.statements.prune.run(this.now() - retentionMs).changes;
  }

  isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.bookkeeping.open) this.bookkeeping.close();
    if (this.db.open) this.db.close();
  }
}

/** Where the API keeps its journal under the data directory. */
export function journalFile(dataDir: string): string {
  return path.join(dataDir, 'intake', 'journal.sqlite');
}

/** Columns added since the first journals were written: an older file gets them on open. */
function addMissingColumns(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(entries)') as { name: string }[]).map((c) => c.name));
  if (!columns.has('trace_context')) db.exec('ALTER TABLE entries ADD COLUMN trace_context TEXT');
}
