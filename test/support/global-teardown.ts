// Stops the shared dev server (and whatever it started) once every test file is done.
import { SHARED_PID_VAR } from './shared-temporal';

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env[SHARED_PID_VAR]);
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // Gone already.
  }
}
