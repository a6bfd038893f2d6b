// The production server with mutual TLS, certificates made here with openssl: the worker, the API
// and `orch` connect with the configured client certificate, from environment variables or a
// temporal.toml profile (the same settings as the `temporal` CLI); a wrong CA stops each of them
// at start with a message that names the setting.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProductionTemporal, type ProductionTemporal } from '../support/production-temporal';
import { freePort, spawnLogged, type Spawned } from '../support/processes';
import { runOrch } from '../support/run-orch';

jest.setTimeout(300_000);

const DIST = path.resolve(__dirname, '../../dist');
let temporal: ProductionTemporal;
let dir: string;
let pki: Pki;
const running: Spawned[] = [];

interface Pki {
  readonly ca: string;
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate it signed, and a CA that signed neither. */
function makePki(into: string): Pki {
  const file = (name: string) => path.join(into, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ca = (name: string) => {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
    );
  };
  const leaf = (name: string, signer: string, ext: string) => {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    fs.writeFileSync(file(`${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${signer}.pem`),
      '-CAkey',
      file(`${signer}.key`),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  };
  ca('test-ca');
  ca('other-ca');
  leaf('localhost', 'test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  leaf('orchestrator', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: file('test-ca.pem'),
    otherCa: file('other-ca.pem'),
    serverCert: file('localhost.pem'),
    serverKey: file('localhost.key'),
    clientCert: file('orchestrator.pem'),
    clientKey: file('orchestrator.key'),
  };
}

/** What a client of this cluster sets: the `temporal` CLI's own variables. */
function clientTls(ca = pki.ca): Record<string, string> {
  return {
    TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-mtls-'));
  pki = makePki(dir);
  temporal = await startProductionTemporal({
    server: {
      TEMPORAL_SERVER_TLS_CERT: pki.serverCert,
      TEMPORAL_SERVER_TLS_KEY: pki.serverKey,
      TEMPORAL_SERVER_TLS_CLIENT_CA: pki.ca,
      TEMPORAL_SERVER_TLS_CA: pki.ca,
      // The server's system worker is a client like any other: the server's own pair serves.
      TEMPORAL_SERVER_TLS_INTERNAL_CERT: pki.serverCert,
      TEMPORAL_SERVER_TLS_INTERNAL_KEY: pki.serverKey,
    },
    client: clientTls(),
  });
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    'projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: /nonexistent\n',
  );
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await temporal?.close();
});

function baseEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH as string,
    HOME: dir,
    TEMPORAL_ADDRESS: temporal.address,
    ORCH_PROJECTS_FILE: path.join(dir, 'projects.yaml'),
    ORCH_DATA_DIR: path.join(dir, `data-${running.length}`),
    ORCH_LOG_LEVEL: 'info',
    ...extra,
  };
}

function start(entry: 'worker' | 'api', env: Record<string, string>): Spawned {
  const p = spawnLogged(process.execPath, [path.join(DIST, `${entry}/main.js`)], env);
  running.push(p);
  return p;
}

test('worker, API and orch connect with the client certificate; without it the server refuses', async () => {
  const worker = start('worker', baseEnv(clientTls()));
  await worker.waitFor(/worker polling/, 60_000);
  const apiPort = await freePort();
  const api = start('api', baseEnv({ ...clientTls(), ORCH_API_PORT: String(apiPort), ORCH_METRICS_PORT: '0' }));
  await api.waitFor(/api listening/, 30_000);
  expect(await (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).json()).toMatchObject({
    status: 'ready',
    temporal: 'reachable',
  });
  const submitted = await runOrch(['submit', 'shop', 'SHOP-1', '--title', 'Over mTLS'], baseEnv(clientTls()));
  expect(submitted).toMatchObject({ code: 0 });
  const listed = await runOrch(['status', 'SHOP-1', '--json'], baseEnv(clientTls()));
  expect(listed.code).toBe(0);

  // No client certificate: the handshake fails, and orch says so with the settings to check.
  const anonymous = await runOrch(
    ['list'],
    baseEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca, TEMPORAL_TLS_SERVER_NAME: 'localhost' }),
  );
  expect(anonymous.code).not.toBe(0);
  expect(anonymous.err).toContain(`cannot connect to Temporal at ${temporal.address} over TLS`);
  expect(anonymous.err).toContain('the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH');
});

test('a temporal.toml profile carries the same settings', async () => {
  const file = path.join(dir, 'temporal.toml');
  const tls = clientTls();
  fs.writeFileSync(
    file,
    [
      '[profile.production]',
      `address = "${temporal.address}"`,
      'namespace = "default"',
      '[profile.production.tls]',
      `client_cert_path = "${tls.TEMPORAL_TLS_CLIENT_CERT_PATH}"`,
      `client_key_path = "${tls.TEMPORAL_TLS_CLIENT_KEY_PATH}"`,
      `server_ca_cert_path = "${tls.TEMPORAL_TLS_SERVER_CA_CERT_PATH}"`,
      'server_name = "localhost"',
      '',
    ].join('\n'),
  );
  const env = { ...baseEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'production' }) } as Record<string, string>;
  delete env.TEMPORAL_ADDRESS;
  // Visibility takes the item's search attributes asynchronously: a list right after the start
  // can show the execution before them.
  let listed = await runOrch(['list', '--all'], env);
  for (let tries = 0; listed.code === 0 && !listed.out.includes('SHOP-1') && tries < 20; tries++) {
    await new Promise((r) => setTimeout(r, 500));
    listed = await runOrch(['list', '--all'], env);
  }
  expect(listed).toMatchObject({ code: 0 });
  expect(listed.out).toContain('SHOP-1');
});

test('a wrong CA stops the worker, the API and orch at start, naming the setting', async () => {
  const wrong = clientTls(pki.otherCa);
  const worker = start('worker', baseEnv(wrong));
  expect(await worker.exited()).not.toBe(0);
  expect(worker.output()).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  const api = start('api', baseEnv({ ...wrong, ORCH_API_PORT: String(await freePort()), ORCH_METRICS_PORT: '0' }));
  expect(await api.exited()).not.toBe(0);
  expect(api.output()).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  const orch = await runOrch(['list'], baseEnv(wrong));
  expect(orch.code).not.toBe(0);
  expect(orch.err).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  // A certificate file that is not there is named too, before any connection.
  const missing = await runOrch(
    ['list'],
    baseEnv({ ...clientTls(), TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'gone.pem') }),
  );
  expect(missing.code).not.toBe(0);
  expect(missing.err).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');
});
