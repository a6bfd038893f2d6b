// `npm run demo` as a user runs it (here with --exit and free ports): the sample ticket walks
// through every agent stage with the real CLI and the scripted model, and the demo says plainly
// that the model is scripted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnLogged } from '../support/processes';

jest.setTimeout(300_000);

test('the demo walks DEMO-1 through the agent stages with the real CLI and stops blocked at the staging deploy it has no command for', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-demo-'));
  const demo = spawnLogged(process.execPath, [path.resolve(__dirname, '../../dist/dev/demo.js'), '--exit'], {
    PATH: process.env.PATH,
    ORCH_DEMO_DIR: dir,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    ORCH_UI_PORT: String(await freePort()),
    ORCH_API_PORT: String(await freePort()),
  });
  const code = await demo.exited();
  const output = demo.output();
  expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('DEMO: the model is SCRIPTED') });
  for (const stage of ['analysis (the analyst agent works)', 'architecture (the architect agent works)', 'review (the reviewer agent works)', 'testing (the tester agent works)']) {
    expect(output).toContain(`→ ${stage}`);
  }
  expect(output).toContain('gate artifacts: REQUEST_CHANGES');
  expect(output).toMatch(/gate merge: PASS \(merged feature\/DEMO-1-apply-coupon-codes-at-checkout into main as [0-9a-f]{12}/);
  expect(output).toContain('DEMO-1 is blocked at deploy-staging: no staging deploy is configured for demo: set commands.deployStaging and its health URL.');
  expect(output).toMatch(/Inspect it in the Web UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows/);
  expect(output).toContain('docs/work-items/DEMO-1/13-test-report.md');
});
