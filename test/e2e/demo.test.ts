// `npm run demo` as a user runs it (here with --exit and free ports): the sample ticket walks the
// whole pipeline with the real CLI and the scripted model, and the demo says plainly that the
// model is scripted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_LEAKED_KEY } from '../../src/dev/scripted-model/pipeline-script';
import { alive, freePort, spawnLogged } from '../support/processes';

jest.setTimeout(300_000);

test('the demo takes DEMO-1 from created to done: agents, a caught secret removed, merge, image freshness, deploys, observation', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-demo-'));
  const demo = spawnLogged(process.execPath, [path.resolve(__dirname, '../../dist/dev/demo.js'), '--exit'], {
    PATH: process.env.PATH,
    ORCH_DEMO_DIR: dir,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    ORCH_UI_PORT: String(await freePort()),
    ORCH_API_PORT: String(await freePort()),
    ORCH_METRICS_PORT: '0',
  });
  const code = await demo.exited();
  const output = demo.output();
  // On failure, the demo's own account (where the item stopped and why) is the message.
  if (code !== 0) throw new Error(`the demo exited ${code}; it said:\n${output.slice(-6000)}`);
  expect(output).toContain('DEMO: the model is SCRIPTED');
  for (const stage of [
    'analysis (the analyst agent works)',
    'architecture (the architect agent works)',
    'review (the reviewer agent works)',
    'testing (the tester agent works)',
    'deploy-staging (deployStaging)',
    'deploy (deployProduction)',
    'done (nothing to run)',
  ]) {
    expect(output).toContain(`→ ${stage}`);
  }
  expect(output).toContain('gate artifacts: REQUEST_CHANGES');
  // The key the developer left is caught, handed back verbatim, removed, and the gate passes.
  const finding = 'secret: rule aws-access-token in src/payment-gateway.js:2 (commit';
  expect(output).toContain(`gate security: FAIL (${finding}`);
  expect(output).toContain(`handed to the developer: ${finding}`);
  expect(output.indexOf('gate security: PASS')).toBeGreaterThan(output.indexOf('gate security: FAIL'));
  expect(output).toMatch(
    /gate merge: PASS \(merged feature\/DEMO-1-apply-coupon-codes-at-checkout into main as [0-9a-f]{12}/,
  );
  expect(output).toMatch(/gate image-freshness: PASS \(built from main at [0-9a-f]{12}\)/);
  expect(output).toMatch(/gate observation: PASS \(healthy for \d+ probe\(s\) over 3000 ms/);
  expect(output).toContain('DEMO-1 is done at done.');
  const commits = output
    .slice(output.indexOf('Commits on'), output.indexOf('Artifacts:'))
    .split('\n')
    .slice(1)
    .filter(Boolean);
  expect(commits).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^ {2}[0-9a-f]{7,} feat\(DEMO-1\): development by the developer agent/),
      expect.stringMatching(/production deploy \(SUCCESS\)/),
    ]),
  );
  expect(output).toContain('docs/work-items/DEMO-1/16-post-deploy-log.md');
  expect(output).not.toContain(DEMO_LEAKED_KEY);
  // The key is in no commit the origin can reach: the item's history was squashed before it merged.
  expect(
    execFileSync('git', ['-C', path.join(dir, 'shop.git'), 'log', '-p', '--all'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }),
  ).not.toContain(DEMO_LEAKED_KEY);
  // The deployed sample services were stopped with the demo.
  const deployed = ['staging', 'production'].map((name) =>
    Number(fs.readFileSync(path.join(dir, `demo-${name}.pid`), 'utf8')),
  );
  expect(deployed.every((pid) => pid > 0)).toBe(true);
  await new Promise((r) => setTimeout(r, 500));
  expect(deployed.filter(alive)).toEqual([]);
});
