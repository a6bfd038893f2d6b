// Medians and spreads of repeated measurements; the bench prints ratios of medians.
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
