// `npm run bench`: each figure measures the project path against a baseline written here, in
// the same run, interleaved and repeated; prints a table and writes JSON to bench/results/.
// `--quick` repeats less and runs smaller loads; `--only wrapper|sandbox|item|fleet|scale|intake` runs one group. Never part of `npm test`: timings do not belong in assertions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/paths';
import { renderTable, ratio, type Figure } from './figure';
import { sandboxFigure } from './sandbox-figure';
import { agentWrapperFigure } from './agent-wrapper-figure';
import { intakeFigures } from './intake-figure';
import { itemFigures } from './item-figure';
import { fleetFigures } from './fleet-figure';
import { scaleFigures } from './scale-figure';
import { testTimesByFolder } from './test-times';

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const rounds = quick ? 5 : 15;
  const started = Date.now();
  const figures: Figure[] = [];
  process.stdout.write(
    `bench: ${quick ? 'quick' : 'full'} run, ${rounds} rounds per figure, on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'})\n`,
  );
  // `--only wrapper|sandbox|item|fleet|scale|intake` runs one group (while working on it); the default runs all.
  const groups: [string, () => Promise<Figure | Figure[]>][] = [
    ['wrapper', () => agentWrapperFigure(rounds)],
    ['sandbox', () => sandboxFigure(rounds)],
    ['item', () => itemFigures(rounds, quick)],
    ['fleet', () => fleetFigures(quick)],
    ['scale', () => scaleFigures(quick)],
    ['intake', () => intakeFigures(rounds, quick)],
  ];
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  if (only !== undefined && !groups.some(([name]) => name === only))
    throw new Error(`--only ${groups.map(([name]) => name).join('|')}, not ${only}`);
  // Each group's duration is printed as it ends: what makes a run long is visible without a profiler.
  const durations: string[] = [];
  for (const [name, run] of groups) {
    if (only !== undefined && only !== name) continue;
    const groupStarted = Date.now();
    figures.push(...[await run()].flat());
    const seconds = ((Date.now() - groupStarted) / 1000).toFixed(0);
    durations.push(`${name} ${seconds} s`);
    process.stdout.write(`bench: ${name} done in ${seconds} s\n`);
  }
  process.stdout.write(`\n${renderTable(figures)}\n`);
  for (const f of figures) if (f.notes) process.stdout.write(`  ${f.name}: ${f.notes}\n`);
  process.stdout.write(`\n${testTimesByFolder()}\n`);
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    `${JSON.stringify({ quick, rounds, groups: durations, host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) }, durationMs: Date.now() - started, figures: figures.map((f) => ({ ...f, ratio: ratio(f) })) }, null, 2)}\n`,
  );
  process.stdout.write(
    `\nwritten ${path.relative(PROJECT_ROOT, file)} in ${((Date.now() - started) / 1000).toFixed(0)} s (${durations.join(', ')})\n`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
