// A sample shop for the production tests that run whole items with the real CLI: the sample
// repository, and a project whose items never merge (branches writing the same files would only
// test the merge gate's conflict path, which has tests of its own) and deploy to an endpoint that
// answers healthy. Writes <dir>/projects.yaml.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createSampleRepository } from '../../src/dev/sample-project';

export async function quickShop(dir: string): Promise<{ readonly health: http.Server }> {
  const { origin } = await createSampleRepository(dir);
  const health = http.createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((r) => health.once('listening', r));
  const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    [
      'projects:',
      '  shop:',
      '    ticketPrefix: SHOP',
      `    repository: ${JSON.stringify(origin)}`,
      '    budgetUsd: 5',
      '    gates: { security: false, merge: false, imageFreshness: false }',
      '    commands: { deployStaging: "true", deployProduction: "true" }',
      `    health: { stagingUrl: ${JSON.stringify(healthUrl)}, productionUrl: ${JSON.stringify(healthUrl)}, intervalMs: 100 }`,
      '    observation: { windowMs: 300, probeIntervalMs: 100 }',
      '',
    ].join('\n'),
  );
  return { health };
}
