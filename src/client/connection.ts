// The Temporal client every entry point uses (worker, API, orch, npm start). Kept apart from the
// worker so `orch` and the API never load @temporalio/worker and its native core.
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';

export async function connectClient(config: AppConfig): Promise<Client> {
  const connection = await Connection.connect({ address: config.env.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  return new Client({ connection, namespace: config.env.TEMPORAL_NAMESPACE });
}

/**
 * A client whose connection is made on first use, so its owner starts while Temporal is down:
 * the API journals deliveries meanwhile and forwards them once Temporal answers.
 */
export function lazyClient(config: AppConfig): Client {
  const connection = Connection.lazy({ address: config.env.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  return new Client({ connection, namespace: config.env.TEMPORAL_NAMESPACE });
}
