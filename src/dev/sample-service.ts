// The small HTTP service the demo and the deploy tests deploy from their sample repositories: it
// answers /health with STATUS (200 unless set) and the revision it was deployed at, and writes
// its pid where PIDFILE says, so whoever started it can stop it.
export const SAMPLE_SERVICE = `const http = require('http');
require('fs').writeFileSync(process.env.PIDFILE, String(process.pid));
http.createServer((req, res) => { res.writeHead(req.url === '/health' ? Number(process.env.STATUS || 200) : 404); res.end(process.env.ORCH_REVISION || ''); })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;
