// The small HTTP service deploy tests start from their repository: it answers its health URL with
// STATUS (and the revision it was deployed at) and writes its pid where PIDFILE says, so a test
// can stop what its deploy commands left running.
import fs from 'node:fs';

export const SAMPLE_SERVER = `const http = require('http');
require('fs').writeFileSync(process.env.PIDFILE, String(process.pid));
http.createServer((req, res) => { res.writeHead(req.url === '/health' ? Number(process.env.STATUS) : 404); res.end(process.env.ORCH_REVISION || ''); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

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
