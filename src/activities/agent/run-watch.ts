// Watches a running agent for the three ways a run goes nowhere (ADR-0014):
//   - a stall: no stream event for `stallMs`, while no tool it asked for is using the CPU (a long
//     test suite run by the Bash tool streams nothing, and is not a stall);
//   - a loop: the same tool call with the same input `maxRepeats` times in a row;
//   - drift: `maxTurnsWithoutChange` model turns without any file changing in the workspace.
// It decides; the runner stops the CLI and turns the verdict into an outcome.
import type { StreamState } from './stream';

export interface WatchLimits {
  readonly stallMs: number;
  readonly maxRepeats: number;
  readonly maxTurnsWithoutChange: number;
}

export type WatchVerdict =
  | { readonly kind: 'stall'; readonly message: string; readonly recentEvents: readonly string[] }
  | { readonly kind: 'loop'; readonly finding: string };

export interface WatchProbes {
  /** A fingerprint of the workspace's files (equal digests: nothing changed) and the changed paths. */
  fingerprint(): Promise<{ readonly digest: string; readonly files: readonly string[] }>;
  /** CPU time (clock ticks) used so far by each process the agent's tools started, by pid. */
  toolCpuTicks(): ReadonlyMap<number, number>;
  now(): number;
}

export class RunWatch {
  private lastEventAt: number;
  private lastTurn = 0;
  private lastFingerprint?: string;
  private cpuAtLastEvent?: ReadonlyMap<number, number>;
  /** Model turns since a file last changed. */
  turnsWithoutChange = 0;
  /** The files the run has changed in its checkout, as of the last turn. */
  changedFiles: readonly string[] = [];

  constructor(
    private readonly limits: WatchLimits,
    private readonly probes: WatchProbes,
    private readonly role: string,
  ) {
    this.lastEventAt = probes.now();
  }

  /** Milliseconds since the newest stream event. */
  silentForMs(): number {
    return this.probes.now() - this.lastEventAt;
  }

  lastEventTime(): number {
    return this.lastEventAt;
  }

  /** After each stream line: the clock restarts; a new turn checks for loops. */
  async onEvent(stream: StreamState): Promise<WatchVerdict | undefined> {
    this.lastEventAt = this.probes.now();
    this.cpuAtLastEvent = undefined;
    if (stream.repeats >= this.limits.maxRepeats && stream.lastToolCall) {
      return {
        kind: 'loop',
        finding: `The ${this.role} agent asked for the same tool call ${stream.repeats} times in a row and was stopped (agents.maxRepeats ${this.limits.maxRepeats}). The repeated call: ${stream.lastToolCall}`,
      };
    }
    if (stream.turns === this.lastTurn) return undefined;
    this.lastTurn = stream.turns;
    const { digest, files } = await this.probes.fingerprint();
    this.changedFiles = files;
    if (this.lastFingerprint !== undefined && digest === this.lastFingerprint) this.turnsWithoutChange += 1;
    else this.turnsWithoutChange = 0;
    this.lastFingerprint = digest;
    if (this.turnsWithoutChange >= this.limits.maxTurnsWithoutChange) {
      return {
        kind: 'loop',
        finding: `The ${this.role} agent went ${this.turnsWithoutChange} turns without changing a file in the workspace and was stopped (agents.maxTurnsWithoutChange ${this.limits.maxTurnsWithoutChange}). Its last tool call: ${stream.lastToolCall ?? 'none'}`,
      };
    }
    return undefined;
  }

  /** On a timer: a stall when silent for stallMs and no tool it runs is working. */
  checkStall(stream: StreamState): WatchVerdict | undefined {
    if (this.silentForMs() < this.limits.stallMs) return undefined;
    if (stream.pendingTools > 0) {
      const cpu = this.probes.toolCpuTicks();
      if (this.cpuAtLastEvent === undefined || worked(this.cpuAtLastEvent, cpu)) {
        // A tool is still working: that is progress, the clock restarts.
        this.cpuAtLastEvent = cpu;
        this.lastEventAt = this.probes.now();
        return undefined;
      }
    }
    const seconds = Math.round(this.silentForMs() / 1000);
    return {
      kind: 'stall',
      message: `stalled after ${stream.lastEvent}: no stream event for ${seconds} s (agents.stallMs ${this.limits.stallMs}); last events: ${stream.recentEvents.join(' → ') || 'none'}`,
      recentEvents: [...stream.recentEvents],
    };
  }
}

/**
 * Some tool process used CPU between two looks: a new one that has, or one that has more. Judged
 * per process, so one that exits in between does not hide the work of the others.
 */
function worked(before: ReadonlyMap<number, number>, now: ReadonlyMap<number, number>): boolean {
  for (const [pid, ticks] of now) if (ticks > (before.get(pid) ?? 0)) return true;
  return false;
}
