// `npm run bench`: each figure measures the project path against a baseline written here, in
// the same run, interleaved and repeated; prints a table and writes JSON to bench/results/.
// `--quick` repeats less; `--only wrapper|sandbox|item|fleet|scale|intake` runs one group. Never part of `npm test`: timings do not belong in assertions.
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
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const groups = ['wrapper', 'sandbox', 'item', 'fleet', 'scale', 'intake'];
  if (only !== undefined && !groups.includes(only)) throw new Error(`--only ${groups.join('|')}, not ${only}`);
  if (only === undefined || only === 'wrapper') figures.push(await agentWrapperFigure(rounds));
  if (only === undefined || only === 'sandbox') figures.push(await sandboxFigure(rounds));
  if (only === undefined || only === 'item') figures.push(...(await itemFigures(rounds)));
  if (only === undefined || only === 'fleet') figures.push(...(await fleetFigures(quick)));
  if (only === undefined || only === 'scale') figures.push(...(await scaleFigures(quick)));
  if (only === undefined || only === 'intake') figures.push(...(await intakeFigures(rounds, quick)));
  process.stdout.write(`\n${renderTable(figures)}\n`);
  for (const f of figures) if (f.notes) process.stdout.write(`  ${f.name}: ${f.notes}\n`);
  process.stdout.write(`\n${testTimesByFolder()}\n`);
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    `${JSON.stringify({ quick, rounds, host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) }, durationMs: Date.now() - started, figures: figures.map((f) => ({ ...f, ratio: ratio(f) })) }, null, 2)}\n`,
  );
  process.stdout.write(
    `\nwritten ${path.relative(PROJECT_ROOT, file)} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
