// How every entry point (worker, API, orch, npm start) reaches Temporal: the `temporal` CLI's own
// settings, through @temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS_*, or a profile (TEMPORAL_PROFILE) of a TOML file (TEMPORAL_CONFIG_FILE, default
// ~/.config/temporalio/temporal.toml); variables override the profile. Messages about a
// connection name the setting to fix, never its secret value.
import net from 'node:net';
import tls from 'node:tls';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { ConfigError } from '../config/errors';

export interface TemporalSettings {
  readonly address: string;
  readonly namespace: string;
  readonly apiKey?: string;
  /** false: TLS explicitly off; true: TLS with the system's CAs; an object: certificates. */
  readonly tls?: TLSConfig | boolean;
  readonly metadata?: Record<string, string>;
  /** The settings that shape TLS, by where each came from (variable or profile key), for messages. */
  readonly tlsSources: readonly string[];
}

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

type Env = Readonly<Record<string, string | undefined>>;

/** Each TLS setting: the variables that set it, and its key in a profile. */
const TLS_SETTINGS: readonly {
  readonly variables: readonly string[];
  readonly key: string;
  readonly of: (tls: NonNullable<ClientConfigProfile['tls']>) => unknown;
}[] = [
  {
    variables: ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'],
    key: 'server_ca_cert_path',
    of: (t) => t.serverCACert,
  },
  {
    variables: ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'],
    key: 'client_cert_path',
    of: (t) => t.clientCert,
  },
  {
    variables: ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'],
    key: 'client_key_path',
    of: (t) => t.clientKey,
  },
  { variables: ['TEMPORAL_TLS_SERVER_NAME'], key: 'server_name', of: (t) => t.serverName },
];

export function loadTemporalSettings(env: Env): TemporalSettings {
  const where = `profile "${env.TEMPORAL_PROFILE || 'default'}" of ${env.TEMPORAL_CONFIG_FILE || 'temporal.toml'}`;
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: definedOnly(env) });
  } catch (err) {
    throw new ConfigError(`Temporal connection settings (${where}): ${(err as Error).message}`);
  }
  const tlsSources = TLS_SETTINGS.flatMap(({ variables, key, of }) => {
    const set = variables.filter((v) => env[v]);
    if (set.length > 0) return set;
    return profile.tls && of(profile.tls) !== undefined ? [`tls.${key} in ${where}`] : [];
  });
  let options: ReturnType<typeof toClientOptions>;
  try {
    options = toClientOptions(profile);
  } catch (err) {
    // A certificate file that is not there, or cannot be read.
    throw new ConfigError(`Temporal TLS settings (${tlsSources.join(', ') || where}): ${(err as Error).message}`);
  }
  const { connectionOptions } = options;
  return {
    address: connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: options.namespace ?? 'default',
    ...(connectionOptions.apiKey ? { apiKey: connectionOptions.apiKey as string } : {}),
    ...(connectionOptions.tls !== undefined ? { tls: connectionOptions.tls as TLSConfig | boolean } : {}),
    ...(connectionOptions.metadata ? { metadata: connectionOptions.metadata as Record<string, string> } : {}),
    tlsSources: [
      ...tlsSources,
      ...(env.TEMPORAL_TLS ? ['TEMPORAL_TLS'] : []),
      ...(env.TEMPORAL_API_KEY ? ['TEMPORAL_API_KEY'] : profile.apiKey ? [`api_key in ${where}`] : []),
    ],
  };
}

/** The options both connection kinds take: the client's (grpc-js) and the worker's (core). */
export function connectionOptions(settings: TemporalSettings): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return {
    address: settings.address,
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** Whether a connection error is about certificates (will not fix itself) rather than reachability. */
export function isTlsFailure(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { cause?: unknown })?.cause ?? '')}`;
  return /certificate|UnknownIssuer|handshake|\bSSL\b|\bTLS\b|alert|self[- ]signed|unable to verify|BadCertificate/i.test(
    text,
  );
}

/**
 * A connection failure as an operator reads it: where, why, and which settings to check. The
 * client's own error often hides a certificate problem behind "failed to connect before the
 * deadline", so with TLS configured a TLS handshake of our own finds the real reason.
 */
export async function connectFailure(settings: TemporalSettings, err: unknown): Promise<Error> {
  const cause = (err as Error)?.message ?? String(err);
  const tlsReason = isTlsFailure(err) ? cause : settings.tls ? await tlsHandshakeFailure(settings) : undefined;
  if (tlsReason === undefined) return new Error(`cannot reach Temporal at ${settings.address}: ${cause}`);
  const check =
    settings.tlsSources.length > 0
      ? `check ${settings.tlsSources.join(', ')}`
      : 'the server wants TLS: set TEMPORAL_TLS_SERVER_CA_CERT_PATH (and TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH for mutual TLS) or a profile';
  const clientCertMissing =
    /certificate required/i.test(tlsReason) && !(typeof settings.tls === 'object' && settings.tls.clientCertPair)
      ? '; the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH'
      : '';
  return new TlsSettingsError(
    `cannot connect to Temporal at ${settings.address} over TLS (${check}): ${tlsReason}${clientCertMissing}`,
  );
}

/** Settings that can never work; unlike an unreachable server, waiting will not help. */
export class TlsSettingsError extends ConfigError {}

/** Why a TLS handshake with these settings fails, or undefined when it succeeds (or the server is unreachable). */
async function tlsHandshakeFailure(settings: TemporalSettings): Promise<string | undefined> {
  const at = settings.address.lastIndexOf(':');
  const host = settings.address.slice(0, at);
  const port = Number(settings.address.slice(at + 1));
  const certs = typeof settings.tls === 'object' ? settings.tls : {};
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      // No SNI for an IP address (RFC 6066); Node would send it and warn.
      servername: certs.serverNameOverride ?? (net.isIP(host) ? '' : host),
      ...(certs.serverRootCACertificate ? { ca: Buffer.from(certs.serverRootCACertificate) } : {}),
      ...(certs.clientCertPair
        ? { cert: Buffer.from(certs.clientCertPair.crt), key: Buffer.from(certs.clientCertPair.key) }
        : {}),
      ALPNProtocols: ['h2'],
      timeout: 3000,
    });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    // With TLS 1.3 a server that wants a client certificate says so just after the handshake.
    socket.once('secureConnect', () => setTimeout(() => done(undefined), 300));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done(
        ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(e.code ?? '')
          ? undefined
          : e.message,
      ),
    );
  });
}

function definedOnly(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
}
