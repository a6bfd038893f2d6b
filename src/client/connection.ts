// The Temporal client every entry point uses (worker, API, orch, npm start). Kept apart from the
// worker so `orch` and the API never load @temporalio/worker and its native core.
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';
import { TlsSettingsError, connectFailure, connectionOptions } from '../temporal/connection-settings';
import { tracingClientInterceptors } from '../telemetry/tracing';

export async function connectClient(config: AppConfig): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config.temporal), connectTimeout: '5s' }).catch(
    async (err: unknown) => {
      throw await connectFailure(config.temporal, err);
    },
  );
  return new Client({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    interceptors: tracingClientInterceptors(),
  });
}

/**
 * A client whose connection is made on first use, so its owner starts while Temporal is down:
 * the API journals deliveries meanwhile and forwards them once Temporal answers.
 */
export function lazyClient(config: AppConfig): Client {
  const connection = Connection.lazy({ ...connectionOptions(config.temporal), connectTimeout: '5s' });
  return new Client({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    interceptors: tracingClientInterceptors(),
  });
}

/**
 * Connects once, to find settings that can never work (a CA that did not sign the server's
 * certificate): those stop the API at start. A server that is only unreachable does not (the
 * journal takes deliveries until it answers).
 */
export async function checkTlsSettings(config: AppConfig): Promise<void> {
  if (!config.temporal.tls && !config.temporal.apiKey) return;
  const probe = await Connection.connect({ ...connectionOptions(config.temporal), connectTimeout: '5s' }).catch(
    (err: unknown) => err,
  );
  if (probe instanceof Connection) {
    await probe.close();
    return;
  }
  const failure = await connectFailure(config.temporal, probe);
  if (failure instanceof TlsSettingsError) throw failure;
}
