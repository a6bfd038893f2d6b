// Medians and spreads of repeated measurements. Where both sides ran in the same rounds, the
// bench compares them round by round: the machine's speed drifts over seconds (other tenants,
// frequency, caches), and a round's two runs, back to back, see the same drift.
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Half the distance between the 25th and 75th percentiles, relative to the median. */
  readonly spread: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const i = (sorted.length - 1) * q;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (i - lo);
  };
  const median = at(0.5);
  return {
    n: sorted.length,
    median,
    min: sorted[0] ?? 0,
    max: sorted.at(-1) ?? 0,
    spread: median === 0 ? 0 : (at(0.75) - at(0.25)) / 2 / median,
  };
}

/** Runs `a` and `b` alternately `rounds` times (after one warm-up each), so drift hits both. */
export async function interleaved<T = number>(
  rounds: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  await a();
  await b();
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}

/** Two sides measured in the same rounds (`a[i]` and `b[i]` ran back to back). */
export interface Comparison {
  readonly project: Summary;
  readonly baseline: Summary;
  /** The per-round ratios a[i] / b[i]: their median is the figure's ratio. */
  readonly paired: Summary;
  /** The median per-round difference a[i] - b[i]. */
  readonly extra: number;
  readonly samples: { readonly project: readonly number[]; readonly baseline: readonly number[] };
}

export function compare(a: readonly number[], b: readonly number[]): Comparison {
  if (a.length !== b.length) throw new Error(`compare: ${a.length} rounds against ${b.length}`);
  return {
    project: summarize(a),
    baseline: summarize(b),
    paired: summarize(a.map((x, i) => x / (b[i] as number))),
    extra: summarize(a.map((x, i) => x - (b[i] as number))).median,
    samples: { project: [...a], baseline: [...b] },
  };
}
