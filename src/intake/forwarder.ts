// Hands journal entries to Temporal. One entry per lane (work item) at a time, in journal order;
// lanes in parallel up to a limit. A Temporal that cannot be reached pauses all forwarding with
// capped exponential backoff (one probe at a time, not one failure per entry); an entry that
// fails for another passing reason waits out its own backoff and keeps its lane; a poison entry
// goes to the dead letters and its lane moves on. An entry is done only once Temporal took it.
import type { Logger } from '../util/logger';
import type { IntakeMetrics } from './metrics';
import type { IntakeJournal, JournalEntry } from './journal';

/** What forwarding one entry came to. */
export type ForwardResult =
  /** Temporal took it (or it turned out to need nothing): the entry is done. */
  | { readonly kind: 'done'; readonly outcome: string; readonly workflowId?: string; readonly reason?: string }
  /** Temporal cannot be reached: all forwarding pauses, then one entry probes again. */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** The tracker cannot be asked yet (an unresolved entry): this entry again after its backoff. */
  | { readonly kind: 'deferred'; readonly reason: string }
  /** Failed for a reason that may pass: this entry again after its backoff, a few times. */
  | { readonly kind: 'retry'; readonly reason: string }
  /** Retrying will not help: a dead letter for a person. */
  | { readonly kind: 'poison'; readonly reason: string };

export type ForwardEntry = (entry: JournalEntry) => Promise<ForwardResult>;

/** Lane heads read from the journal per scan. */
const SCAN_BATCH = 256;

export interface ForwarderOptions {
  /** Lanes forwarded at once. */
  readonly concurrency?: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A `retry` entry becomes a dead letter after this many attempts. */
  readonly maxAttempts?: number;
  /** How often the journal is looked at without a new entry (entries revived by `orch intake`). */
  readonly pollMs?: number;
}

/** The outcome a waiting request is told. */
export type Settled = Extract<ForwardResult, { kind: 'done' }> | { readonly kind: 'dead'; readonly reason: string };

export class Forwarder {
  private readonly inFlight = new Set<string>();
  private readonly waiters = new Map<number, ((s: Settled) => void)[]>();
  private readonly concurrency: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxAttempts: number;
  private readonly pollMs: number;
  private pausedUntil = 0;
  /** Lane heads from the last scan, not yet started. */
  private candidates: JournalEntry[] = [];
  /** Something may wait in the journal that no lane will pick up by itself (an entry not started at once). */
  private scanNeeded = true;
  /** When the soonest entry waiting out a backoff falls due (to look again then). */
  private earliestRetryAt: number | undefined;
  private outageFailures = 0;
  private pumpQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Temporal is known to be down: forwarding waits for the next probe. */
  private unreachable = false;

  constructor(
    private readonly journal: IntakeJournal,
    private readonly forward: ForwardEntry,
    private readonly logger: Logger,
    private readonly metrics: IntakeMetrics,
    options: ForwarderOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
    this.baseBackoffMs = options.baseBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.pollMs = options.pollMs ?? 1000;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Stops starting entries; those in flight finish (or are replayed after a restart). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + 5000;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** A new entry is in the journal: forward it now when its lane and a slot are free. */
  offer(entry: JournalEntry): void {
    const now = Date.now();
    if (
      !this.paused() &&
      now >= this.pausedUntil &&
      this.laneFree(entry.lane) &&
      !this.journal.hasOlderPending(entry.lane, entry.id)
    )
      this.begin(entry);
    else {
      this.scanNeeded = true;
      this.kick();
    }
  }

  /** Resolves when the entry is done or dead, or with undefined after `timeoutMs`. */
  settled(id: number, timeoutMs: number): Promise<Settled | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          const list = this.waiters.get(id)?.filter((w) => w !== done);
          if (list?.length) this.waiters.set(id, list);
          else this.waiters.delete(id);
          resolve(undefined);
        },
        Math.max(0, timeoutMs),
      );
      const done = (s: Settled): void => {
        clearTimeout(timer);
        resolve(s);
      };
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), done]);
    });
  }

  /** True while Temporal is known to be unreachable: a new entry waits for the next probe. */
  paused(): boolean {
    return this.unreachable;
  }

  private laneFree(lane: string): boolean {
    return this.running && !this.inFlight.has(lane) && this.inFlight.size < this.concurrency;
  }

  private kick(scan = false): void {
    if (scan) this.scanNeeded = true;
    if (this.pumpQueued || !this.running) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running) return;
    const now = Date.now();
    if (now < this.pausedUntil) return this.schedule(this.pausedUntil - now);
    // While Temporal is known to be down, one entry at a time probes it; the rest wait.
    let free = this.paused() ? (this.inFlight.size === 0 ? 1 : 0) : this.concurrency - this.inFlight.size;
    let scanned = false;
    while (free > 0) {
      if (this.candidates.length === 0) {
        // One scan of the lane heads per pump at most, in batches, and only when something may
        // wait: a backlog of thousands is not read again for every entry forwarded.
        if (scanned || !this.scanNeeded) break;
        this.candidates = this.journal.dueHeads(SCAN_BATCH);
        scanned = true;
        this.scanNeeded = this.candidates.length === SCAN_BATCH;
        if (this.candidates.length === 0) break;
      }
      const candidate = this.candidates.shift()!;
      if (!this.laneFree(candidate.lane)) continue; // its lane's next entry follows when it finishes
      const entry = this.journal.get(candidate.id);
      if (entry?.state !== 'pending' || entry.nextAt > now) continue;
      this.begin(entry);
      free--;
    }
    const retryIn = this.earliestRetryAt === undefined ? this.pollMs : this.earliestRetryAt - Date.now();
    this.schedule(Math.max(10, Math.min(this.pollMs, retryIn)));
  }

  /** After an entry of `lane` is done or dead: the lane's next entry, at once when it is due. */
  private continueLane(lane: string): void {
    if (this.paused() || Date.now() < this.pausedUntil || !this.laneFree(lane)) return;
    const next = this.journal.laneHead(lane);
    if (next && next.nextAt <= Date.now()) this.begin(next);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    // The timer looks at the journal itself: entries due after a backoff, or revived by a person.
    this.timer = setTimeout(() => this.kick(true), ms);
    this.timer.unref?.();
  }

  private begin(entry: JournalEntry): void {
    this.inFlight.add(entry.lane);
    void this.attempt(entry).then(
      (settled) => {
        this.inFlight.delete(entry.lane);
        if (settled) this.continueLane(entry.lane);
        this.kick();
      },
      () => {
        this.inFlight.delete(entry.lane);
        this.kick();
      },
    );
  }

  /** Forwards one entry; true when it is settled (done or dead), false when it waits for a retry. */
  private async attempt(entry: JournalEntry): Promise<boolean> {
    let result: ForwardResult;
    try {
      result = await this.forward(entry);
    } catch (err) {
      result = { kind: 'retry', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    this.metrics.forwardAttempts.inc({ result: result.kind });
    const log = this.logger.child({ entry: entry.id, lane: entry.lane, source: entry.source, event: entry.event });
    switch (result.kind) {
      case 'done':
        this.contact(true);
        this.journal.markDone(entry.id, result.outcome);
        log.info('delivery forwarded', {
          outcome: result.outcome,
          workflowId: result.workflowId,
          reason: result.reason,
        });
        this.settle(entry.id, result);
        return true;
      case 'unavailable': {
        this.contact(false);
        this.metrics.forwardFailures.inc({ reason: 'unavailable' });
        const wait = this.backoff(this.outageFailures++);
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
        log.warn('forwarding paused: not reachable', { reason: result.reason, retryInMs: wait });
        return this.retryLater(entry, wait, result.reason);
      }
      case 'deferred': {
        this.metrics.forwardFailures.inc({ reason: 'deferred' });
        const wait = this.backoff(entry.attempts);
        log.warn('delivery not resolved yet; will retry', { reason: result.reason, retryInMs: wait });
        return this.retryLater(entry, wait, result.reason);
      }
      case 'retry': {
        this.metrics.forwardFailures.inc({ reason: 'retry' });
        if (entry.attempts + 1 >= this.maxAttempts)
          return this.bury(entry, `after ${entry.attempts + 1} attempts: ${result.reason}`, log);
        const wait = this.backoff(entry.attempts);
        log.warn('delivery forwarding failed; will retry', {
          reason: result.reason,
          attempt: entry.attempts + 1,
          retryInMs: wait,
        });
        return this.retryLater(entry, wait, result.reason);
      }
      case 'poison':
        this.contact(true);
        this.metrics.forwardFailures.inc({ reason: 'poison' });
        return this.bury(entry, result.reason, log);
    }
  }

  private retryLater(entry: JournalEntry, waitMs: number, reason: string): false {
    this.journal.markRetry(entry.id, waitMs, reason);
    const at = Date.now() + waitMs;
    if (this.earliestRetryAt === undefined || this.earliestRetryAt <= Date.now() || at < this.earliestRetryAt)
      this.earliestRetryAt = at;
    return false;
  }

  private bury(entry: JournalEntry, reason: string, log: Logger): true {
    this.journal.markDead(entry.id, reason);
    log.error('delivery moved to the dead letters (orch intake)', { reason });
    this.settle(entry.id, { kind: 'dead', reason });
    return true;
  }

  private contact(reachable: boolean): void {
    if (reachable) {
      if (this.unreachable) this.logger.info('Temporal reachable again; forwarding resumes');
      this.unreachable = false;
      this.outageFailures = 0;
      this.pausedUntil = 0;
    } else this.unreachable = true;
  }

  private settle(id: number, settled: Settled): void {
    const list = this.waiters.get(id);
    this.waiters.delete(id);
    for (const waiter of list ?? []) waiter(settled);
  }

  private backoff(failures: number): number {
    return Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(failures, 20));
  }
}
