// One Temporal dev server for the whole test run (started by the jest globalSetup, stopped by the
// globalTeardown): test files share it, kept apart by task queue and workflow id as the SDK's own
// tests do. A file that needs a server of its own asks startTemporal({ own: true }).
import { spawn } from 'node:child_process';
import { resolveTool } from '../../src/config/paths';
import { FAIR_DISPATCH, ONE_MACHINE_DISPATCH, registerSearchAttributes } from '../../src/temporal/dev-server';
import { freePort, portOpen } from '../../src/util/net';

export const SHARED_ADDRESS_VAR = 'ORCH_TEST_TEMPORAL_ADDRESS';
export const SHARED_PID_VAR = 'ORCH_TEST_TEMPORAL_PID';

export async function startSharedServer(): Promise<{ address: string; pid: number }> {
  const port = await freePort();
  const child = spawn(
    resolveTool('temporal'),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'error',
      ...ONE_MACHINE_DISPATCH,
      ...FAIR_DISPATCH,
    ],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
  const deadline = Date.now() + 30_000;
  while (!(await portOpen('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the shared test dev server did not start on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await registerSearchAttributes(`127.0.0.1:${port}`, 'default');
  return { address: `127.0.0.1:${port}`, pid: child.pid as number };
}
