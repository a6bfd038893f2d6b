// The sample service deploy tests start from their repository (src/dev/sample-service.ts), and a
// record of what their deploy commands left running.
import fs from 'node:fs';

export { SAMPLE_SERVICE as SAMPLE_SERVER } from '../../src/dev/sample-service';

/** Pid files of services started by a test file's deploy commands; stop() kills them all. */
export function startedServices(): { readonly pidFiles: string[]; stop(): void } {
  const pidFiles: string[] = [];
  return {
    pidFiles,
    stop() {
      for (const file of pidFiles) {
        try {
          process.kill(Number(fs.readFileSync(file, 'utf8')), 'SIGKILL');
        } catch {
          // Not started or already gone.
        }
      }
    },
  };
}
