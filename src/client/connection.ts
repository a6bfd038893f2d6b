// The Temporal client every entry point uses (worker, API, orch, npm start). Kept apart from the
// worker so `orch` and the API never load @temporalio/worker and its native core.
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';
import { TlsSettingsError, connectFailure, connectionOptions } from '../temporal/connection-settings';
import { tracingClientInterceptors } from '../telemetry/tracing';
import { guardedGrpcInterceptors } from '../temporal/closed-channel-guard';

/**
 * How every client of an entry point connects: the resolved settings, a 5-s connect deadline,
 * and the SDK's retry with calls on a closed connection failing instead of throwing.
 */
function clientConnectionOptions(config: AppConfig) {
  return { ...connectionOptions(config.temporal), connectTimeout: '5s', interceptors: guardedGrpcInterceptors() };
}

function clientOn(config: AppConfig, connection: Connection): Client {
  return new Client({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    interceptors: tracingClientInterceptors(),
  });
}

export async function connectClient(config: AppConfig): Promise<Client> {
  const connection = await Connection.connect(clientConnectionOptions(config)).catch(async (err: unknown) => {
    throw await connectFailure(config.temporal, err);
  });
  return clientOn(config, connection);
}

/**
 * A client whose connection is made on first use, so its owner starts while Temporal is down:
 * the API journals deliveries meanwhile and forwards them once Temporal answers.
 */
export function lazyClient(config: AppConfig): Client {
  return clientOn(config, Connection.lazy(clientConnectionOptions(config)));
}

/**
 * Connects once, to find settings that can never work (a CA that did not sign the server's
 * certificate): those stop the API at start. A server that is only unreachable does not (the
 * journal takes deliveries until it answers).
 */
export async function checkTlsSettings(config: AppConfig): Promise<void> {
  if (!config.temporal.tls && !config.temporal.apiKey) return;
  try {
    await (await connectClient(config)).connection.close();
  } catch (err) {
    if (err instanceof TlsSettingsError) throw err;
  }
}
