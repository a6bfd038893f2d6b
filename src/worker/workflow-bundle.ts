// The workflow code the worker runs, bundled once by `npm run build` (dist/workflow-bundle.js)
// instead of by webpack at every worker start: a start takes no seconds of bundling, every worker
// of one release runs byte-identical workflow code, and the log names it by its hash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../config/paths';
import { WORKFLOW_TRACING_MODULE } from './create-worker';

export const WORKFLOW_BUNDLE_FILE = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

export interface PrebuiltBundle {
  readonly codePath: string;
  /** sha256 of the bundle, first 16 hex digits: which workflow code this worker runs. */
  readonly hash: string;
  readonly bytes: number;
}

/** The prebuilt bundle, or undefined when there is none (a worker run from the sources). */
export function prebuiltBundle(file = WORKFLOW_BUNDLE_FILE): PrebuiltBundle | undefined {
  if (!fs.existsSync(file)) return undefined;
  const code = fs.readFileSync(file);
  return {
    codePath: file,
    hash: hashOf(code),
    bytes: code.length,
  };
}

/** Bundles src/workflows (as compiled into dist/) into `file`; used by `npm run build`. */
export async function buildWorkflowBundle(workflowsPath: string, file = WORKFLOW_BUNDLE_FILE): Promise<PrebuiltBundle> {
  fs.writeFileSync(file, await bundleCode(workflowsPath));
  return prebuiltBundle(file) as PrebuiltBundle;
}

/** A worker run from the sources bundles at start, in memory; the hash still names its code. */
export async function bundleAtStart(workflowsPath: string): Promise<{ code: string; hash: string }> {
  const code = await bundleCode(workflowsPath);
  return { code, hash: hashOf(Buffer.from(code)) };
}

function hashOf(code: Buffer): string {
  return crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
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

/**
 * The `exporter` sink for a worker that runs the prebuilt bundle without tracing (the bench, a
 * test harness): the bundle's workflow interceptors call it, and spans nobody collects are dropped
 * here instead of each call being logged as an unregistered sink.
 */
export const UNTRACED_SINKS = { exporter: { export: { fn: () => undefined } } };
