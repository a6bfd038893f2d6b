// Builds the workflow bundle once for the whole run (webpack takes seconds) and starts the one
// dev server the test files share; every test worker finds both through the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { SHARED_ADDRESS_VAR, SHARED_PID_VAR, startSharedServer } from './shared-temporal';

export default async function globalSetup(): Promise<void> {
  const [{ code }, server] = await Promise.all([
    bundleWorkflowCode({
      workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
    }),
    startSharedServer(),
  ]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bundle-')), 'workflow-bundle.js');
  fs.writeFileSync(file, code);
  process.env.ORCH_TEST_WORKFLOW_BUNDLE = file;
  process.env[SHARED_ADDRESS_VAR] = server.address;
  process.env[SHARED_PID_VAR] = String(server.pid);
}
