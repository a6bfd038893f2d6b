// One line of the bench table: the project path against its baseline, measured in the same run.
import type { Comparison, Summary } from './stats';

export interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly project: Summary;
  readonly baseline: Summary;
  /** Per-round ratios, where both sides ran in the same rounds: the ratio is their median. */
  readonly paired?: Summary;
  /** Each round's values, in order, for the JSON record. */
  readonly samples?: { readonly project: readonly number[]; readonly baseline: readonly number[] };
  /** The target, in words (printed next to the verdict). */
  readonly target: string;
  readonly met: boolean;
  readonly notes?: string;
}

/** The median per-round ratio where there is one, else the ratio of the medians. */
export function ratio(figure: Pick<Figure, 'project' | 'baseline' | 'paired'>): number {
  if (figure.paired) return figure.paired.median;
  return figure.baseline.median === 0 ? Number.NaN : figure.project.median / figure.baseline.median;
}

/** A figure's numbers from a round-by-round comparison. */
export function compared(c: Comparison): Pick<Figure, 'project' | 'baseline' | 'paired' | 'samples'> {
  return { project: c.project, baseline: c.baseline, paired: c.paired, samples: c.samples };
}

export function renderTable(figures: readonly Figure[]): string {
  const rows = [['figure', 'project', 'baseline', 'ratio', 'spread', 'target', 'met']];
  for (const f of figures) {
    const fmt = (s: Summary) => `${s.median.toFixed(1)} ${f.unit}`;
    rows.push([
      f.name,
      fmt(f.project),
      fmt(f.baseline),
      `${ratio(f).toFixed(3)}x`,
      `±${((f.paired ? f.paired.spread : Math.max(f.project.spread, f.baseline.spread)) * 100).toFixed(1)}%`,
      f.target,
      f.met ? 'yes' : 'NO',
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
