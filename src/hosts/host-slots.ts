// One host's capacity of one pool (agent runs, or build-checkout work), ADR-0021. A slot is taken
// before the host polls the pool's queue, so a host with no free slot takes no work and the work
// waits in Temporal's queue (under fairness and priority), not in a worker. The task polled runs
// in that slot (ADR-0023); for items routed under ADR-0021 it is a claim, which turns the slot
// into a hold for the run that follows on the host's own queue; the run redeems the hold when it
// starts and frees the slot when it ends. A hold no run redeems (the item was cancelled
// meanwhile, its workflow worker was slow) expires.
import crypto from 'node:crypto';
import type { HostPool } from '../domain';

export interface SlotUse {
  readonly pool: HostPool;
  readonly capacity: number;
  /** Held for a claimed run that has not started yet. */
  readonly held: number;
  /** Runs in progress (a retry on this host counts even beyond the capacity). */
  readonly running: number;
}

export class HostSlots {
  /** Slots taken by the SDK's pollers of the pool's queue (one per outstanding poll). */
  private polling = 0;
  private readonly holds = new Map<string, NodeJS.Timeout>();
  private running = 0;
  /** Pending poll reservations; each returns whether it took a slot. */
  private readonly waiters = new Set<() => boolean>();

  constructor(
    readonly pool: HostPool,
    readonly capacity: number,
    /** How long a hold waits for its run (the host queue's schedule-to-start, with a margin). */
    private readonly holdMs: number,
    private readonly onChange: (use: SlotUse) => void = () => undefined,
  ) {}

  use(): SlotUse {
    return { pool: this.pool, capacity: this.capacity, held: this.holds.size, running: this.running };
  }

  /** Resolves once a slot is free for a poll of the claim queue; an aborted wait takes none. */
  reserveForPoll(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        if (this.polling + this.holds.size + this.running >= this.capacity) return false;
        this.waiters.delete(attempt);
        signal.removeEventListener('abort', onAbort);
        this.polling += 1;
        resolve();
        return true;
      };
      const onAbort = (): void => {
        this.waiters.delete(attempt);
        // The SDK recognises an aborted reservation by its own abort reason.
        reject(signal.reason ?? abortError());
      };
      if (signal.aborted) return onAbort();
      if (attempt()) return;
      this.waiters.add(attempt);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The poll's slot is no longer needed (its claim ran, or the SDK stopped polling). */
  releasePoll(): void {
    this.polling = Math.max(0, this.polling - 1);
    this.wake();
  }

  /**
   * A task taken from the pool's queue runs in the poll's slot (ADR-0023): the slot now counts as
   * running. Returns the release, to call when the task ends (idempotent).
   */
  runInPollSlot(): () => void {
    this.polling = Math.max(0, this.polling - 1);
    return this.startRun(undefined);
  }

  /** Called by the claim: the slot stays taken for the run; returns the slotId the run redeems. */
  hold(): string {
    const slotId = crypto.randomUUID();
    const timer = setTimeout(() => {
      if (this.holds.delete(slotId)) this.wake();
    }, this.holdMs);
    timer.unref();
    this.holds.set(slotId, timer);
    this.changed();
    return slotId;
  }

  /**
   * A run starts on this host: it redeems its hold when it has one. A run without one (a retry
   * after an earlier attempt here ended, an expired hold) still runs: it was admitted once.
   * Returns the release, to call when the run ends (idempotent).
   */
  startRun(slotId: string | undefined): () => void {
    const timer = slotId === undefined ? undefined : this.holds.get(slotId);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.holds.delete(slotId as string);
    }
    this.running += 1;
    this.changed();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      this.wake();
    };
  }

  private wake(): void {
    this.changed();
    for (const waiter of [...this.waiters]) if (!waiter()) break;
  }

  private changed(): void {
    this.onChange(this.use());
  }
}

function abortError(): Error {
  const err = new Error('slot reservation aborted');
  err.name = 'AbortError';
  return err;
}
