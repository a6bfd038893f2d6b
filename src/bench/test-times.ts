// `npm test` time by test folder, from the report the last run left (bench/results/
// last-test-run.json, written by test/support/summary-reporter.js). Files run two at a time, so
// the folders' sums exceed the run's wall time.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/paths';

export function testTimesByFolder(): string {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', 'last-test-run.json');
  if (!fs.existsSync(file)) return 'npm test time by folder: no report yet (run npm test first)';
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    at: string;
    wallSeconds: number;
    files: { file: string; seconds: number }[];
  };
  const byFolder = new Map<string, { seconds: number; files: number }>();
  for (const f of report.files) {
    const folder = path.dirname(f.file);
    const entry = byFolder.get(folder) ?? { seconds: 0, files: 0 };
    byFolder.set(folder, { seconds: entry.seconds + f.seconds, files: entry.files + 1 });
  }
  const rows = [...byFolder].sort((a, b) => b[1].seconds - a[1].seconds);
  return [
    `npm test time by folder (run of ${report.at}, ${report.wallSeconds.toFixed(0)} s wall, files two at a time):`,
    ...rows.map(
      ([folder, t]) => `  ${t.seconds.toFixed(1).padStart(7)} s  ${String(t.files).padStart(3)} files  ${folder}`,
    ),
  ].join('\n');
}
