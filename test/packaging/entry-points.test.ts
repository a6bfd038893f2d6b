// Each entry point loads what it needs: `orch` and the API never load the worker (its native
// core and every activity), so the CLI starts fast and the API process stays small.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function loadedBy(module: string): string[] {
  const script = `require(${JSON.stringify(path.join(ROOT, 'dist', module))}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: ROOT });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as string[];
}

test.each(['cli/main.js', 'api/start.js'])(
  '%s loads neither @temporalio/worker nor the worker-only modules',
  (module) => {
    const loaded = loadedBy(module);
    expect(loaded.length).toBeGreaterThan(10);
    expect(
      loaded.filter(
        (f) =>
          f.includes(`${path.sep}@temporalio${path.sep}worker${path.sep}`) ||
          f.includes(`${path.sep}dist${path.sep}worker${path.sep}`) ||
          f.includes(`${path.sep}dist${path.sep}activities${path.sep}agent`),
      ),
    ).toEqual([]);
  },
);

test('the worker entry point does load the worker (the check above can fail)', () => {
  expect(
    loadedBy('worker/start.js').some((f) => f.includes(`${path.sep}@temporalio${path.sep}worker${path.sep}`)),
  ).toBe(true);
});
