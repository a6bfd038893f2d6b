// The workflow code the worker runs, bundled once by `npm run build` (dist/workflow-bundle.js)
// instead of by webpack at every worker start: a start takes no seconds of bundling, every worker
// of one release runs byte-identical workflow code, and the log names it by its hash.
import fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  bundleHash,
  prebuiltBundle,
  UNTRACED_SINKS,
  WORKFLOW_BUNDLE_FILE,
  type PrebuiltBundle,
} from '../temporal/workflow-bundle-file';
import { WORKFLOW_TRACING_MODULE } from './create-worker';

export { UNTRACED_SINKS, WORKFLOW_BUNDLE_FILE, prebuiltBundle, type PrebuiltBundle };

/** Bundles src/workflows (as compiled into dist/) into `file`; used by `npm run build`. */
export async function buildWorkflowBundle(workflowsPath: string, file = WORKFLOW_BUNDLE_FILE): Promise<PrebuiltBundle> {
  fs.writeFileSync(file, await bundleCode(workflowsPath));
  return prebuiltBundle(file) as PrebuiltBundle;
}

/** A worker run from the sources bundles at start, in memory; the hash still names its code. */
export async function bundleAtStart(workflowsPath: string): Promise<{ code: string; hash: string }> {
  const code = await bundleCode(workflowsPath);
  return { code, hash: bundleHash(Buffer.from(code)) };
}

async function bundleCode(workflowsPath: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    // The OpenTelemetry workflow interceptors: a workflow's spans continue the trace its start
    // carried in its headers, and go out through the worker's `exporter` sink.
    workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
    // Webpack's own report is not what a build should print.
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  return code;
}
