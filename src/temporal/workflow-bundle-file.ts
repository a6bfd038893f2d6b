// The prebuilt workflow bundle on disk (dist/workflow-bundle.js) and the hash that names its code.
// Kept apart from the bundler (src/worker/workflow-bundle.ts) so that `orch versions` can name a
// release's build without loading the worker (test/packaging/entry-points.test.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/paths';

export const WORKFLOW_BUNDLE_FILE = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

/**
 * The `exporter` sink for whatever runs the bundle without tracing (the replay gate, the bench, a
 * test harness): the bundle's workflow interceptors call it, and spans nobody collects are dropped
 * here instead of each call being logged as an unregistered sink.
 */
export const UNTRACED_SINKS = { exporter: { export: { fn: () => undefined } } };

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
  return { codePath: file, hash: bundleHash(code), bytes: code.length };
}

export function bundleHash(code: Buffer): string {
  return crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
}
