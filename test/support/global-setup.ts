// Builds the workflow bundle once for the whole run (webpack takes seconds); every test worker
// loads it from the path in ORCH_TEST_WORKFLOW_BUNDLE.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export default async function globalSetup(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bundle-')), 'workflow-bundle.js');
  fs.writeFileSync(file, code);
  process.env.ORCH_TEST_WORKFLOW_BUNDLE = file;
}
