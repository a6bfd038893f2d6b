// Prints the slowest test files, then one closing line in the plain form CI reads
// ("tests: N passed, N failed"). Each file's time goes to bench/results/last-test-run.json,
// which `npm run bench` sums by folder.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const all = results.testResults
      .map((r) => ({
        file: path.relative(process.cwd(), r.testFilePath),
        seconds: (r.perfStats.end - r.perfStats.start) / 1000,
      }))
      .sort((a, b) => b.seconds - a.seconds);
    const files = all.slice(0, 10);
    try {
      const dir = path.join(__dirname, '../../bench/results');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'last-test-run.json'),
        `${JSON.stringify({ at: new Date().toISOString(), wallSeconds: (Date.now() - results.startTime) / 1000, files: all }, null, 2)}\n`,
      );
    } catch {
      // The report is a convenience for the bench; a read-only tree must not fail the run.
    }
    if (files.length > 1)
      process.stdout.write(
        `\nslowest test files:\n${files.map((f) => `  ${f.seconds.toFixed(1).padStart(6)} s  ${f.file}`).join('\n')}\n`,
      );
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}
module.exports = SummaryReporter;
