// Connection settings the way the `temporal` CLI reads them: variables, a TOML profile, variables
// over the profile, and messages that name the setting to fix (never a secret's value).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { connectFailure, loadTemporalSettings } from '../../src/temporal/connection-settings';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-settings-'));
const pem = path.join(dir, 'ca.pem');
fs.writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
const toml = path.join(dir, 'temporal.toml');
fs.writeFileSync(
  toml,
  [
    '[profile.default]',
    'address = "default.example:7233"',
    '[profile.cloud]',
    'address = "ns.acct.tmprl.cloud:7233"',
    'namespace = "ns.acct"',
    'api_key = "profile-api-key-value"',
    '[profile.mtls]',
    'address = "temporal.internal:7233"',
    '[profile.mtls.tls]',
    `server_ca_cert_path = "${pem}"`,
    'server_name = "temporal.internal"',
    '',
  ].join('\n'),
);

test('without settings: the local default, no TLS', () => {
  const s = loadTemporalSettings({ HOME: dir });
  expect(s).toEqual({ address: '127.0.0.1:7233', namespace: 'default', tlsSources: [] });
});

test('the default profile of the file, and a variable over it', () => {
  expect(loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml }).address).toBe('default.example:7233');
  expect(loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_ADDRESS: '10.0.0.5:7233' }).address).toBe(
    '10.0.0.5:7233',
  );
});

test('a Cloud profile: API key turns TLS on; the message names where the key came from, not the key', () => {
  const s = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
  expect(s).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', tls: true });
  expect(s.apiKey).toBe('profile-api-key-value');
  expect(s.tlsSources).toEqual([`api_key in profile "cloud" of ${toml}`]);
});

test('TLS from a profile and from variables is named by its source', () => {
  const fromProfile = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'mtls' });
  expect(fromProfile.tlsSources).toEqual([
    `tls.server_ca_cert_path in profile "mtls" of ${toml}`,
    `tls.server_name in profile "mtls" of ${toml}`,
  ]);
  const fromEnv = loadTemporalSettings({
    TEMPORAL_CONFIG_FILE: toml,
    TEMPORAL_PROFILE: 'mtls',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem,
  });
  expect(fromEnv.tlsSources[0]).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
});

test('a profile that is not there, or a certificate file that is not there, is a configuration error naming it', () => {
  expect(() => loadTemporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' })).toThrow(
    /profile "staging" of .*temporal\.toml.*Profile 'staging' not found/,
  );
  const missing = () => loadTemporalSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'gone.pem'), HOME: dir });
  expect(missing).toThrow(ConfigError);
  expect(missing).toThrow(/TEMPORAL_TLS_CLIENT_CERT_PATH.*gone\.pem/);
});

test('an unreachable server is not a TLS problem', async () => {
  const s = loadTemporalSettings({ TEMPORAL_ADDRESS: '127.0.0.1:1', HOME: dir });
  const failure = await connectFailure(s, new Error('Failed to connect before the deadline'));
  expect(failure).not.toBeInstanceOf(ConfigError);
  expect(failure.message).toBe('cannot reach Temporal at 127.0.0.1:1: Failed to connect before the deadline');
});
