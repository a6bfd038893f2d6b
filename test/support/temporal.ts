// A real Temporal dev server for tests: the pinned `temporal` binary via createLocal.
import fs from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { WORK_ITEM_SEARCH_ATTRIBUTES } from '../../src/domain';
import { FAIR_DISPATCH, ONE_MACHINE_DISPATCH } from '../../src/temporal/dev-server';
import { resolveTool } from '../../src/config/paths';
import { SHARED_ADDRESS_VAR } from './shared-temporal';
import { prebuiltBundle } from '../../src/worker/workflow-bundle';
import { closedChannelGuardPlugin } from '../../src/temporal/closed-channel-guard';

let runtimeInstalled = false;

/** Keeps the SDK quiet in test output unless ORCH_TEST_LOG is set. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(process.env.ORCH_TEST_LOG ? 'INFO' : 'ERROR') });
}

/**
 * The run's shared dev server (test/support/shared-temporal.ts), or with `own` a fresh one for
 * this file alone (a file that needs a namespace to itself).
 */
export async function startTemporal(options: { own?: boolean } = {}): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const shared = process.env[SHARED_ADDRESS_VAR];
  // The environment's client connection gets the guard: a call the SDK retries when a file tears
  // the environment down would otherwise throw from a timer into whichever file runs next.
  if (shared && !options.own)
    return TestWorkflowEnvironment.createFromExistingServer({ address: shared, plugins: [closedChannelGuardPlugin] });
  const binary = resolveTool('temporal');
  if (!fs.existsSync(binary)) throw new Error(`temporal CLI not found at ${binary}: run 'npm run toolchain'`);
  return TestWorkflowEnvironment.createLocal({
    plugins: [closedChannelGuardPlugin],
    server: {
      executable: { type: 'existing-path', path: binary },
      ip: '127.0.0.1',
      searchAttributes: [...WORK_ITEM_SEARCH_ATTRIBUTES],
      extraArgs: [...ONE_MACHINE_DISPATCH, ...FAIR_DISPATCH],
    },
  });
}

/** The run's bundle (jest globalSetup), else the one `npm run build` made (test:production). */
export function workflowBundle(): { code: string } {
  const file = process.env.ORCH_TEST_WORKFLOW_BUNDLE ?? prebuiltBundle()?.codePath;
  if (!file)
    throw new Error('no workflow bundle: ORCH_TEST_WORKFLOW_BUNDLE is not set and dist/ has none (npm run build)');
  return { code: fs.readFileSync(file, 'utf8') };
}
