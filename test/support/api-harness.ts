// The API as the tests run it: the real Express app and intake (journal in a temporary folder,
// real forwarder) on 127.0.0.1, signalling whatever Temporal the given client reaches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { openIntake, type Intake } from '../../src/api/intake';
import { createMetrics, type ApiMetrics } from '../../src/api/metrics';
import { listen } from '../../src/api/server';
import type { AppConfig } from '../../src/config';
import type { ForwarderOptions } from '../../src/intake/forwarder';
import type { PlaneDirectory } from '../../src/tracker/plane-directory';
import { createLogger, type Logger } from '../../src/util/logger';

export interface TestApi {
  readonly url: string;
  readonly intake: Intake;
  readonly metrics: ApiMetrics;
  readonly journalFile: string;
  close(): Promise<void>;
}

export interface TestApiOptions {
  readonly client: Client;
  readonly config: AppConfig;
  readonly planeDirectory: PlaneDirectory;
  readonly logger?: Logger;
  readonly metrics?: ApiMetrics;
  readonly forwarder?: ForwarderOptions;
  /** An existing journal (a restarted API); a new one in a temporary folder otherwise. */
  readonly journalFile?: string;
}

/** For tests whose deliveries never need Plane: any question to it fails, as an unreachable Plane would. */
export const NO_PLANE: PlaneDirectory = {
  projectIdentifier: () => Promise.reject(new Error('no Plane here')),
  stateGroup: () => Promise.reject(new Error('no Plane here')),
  workItemSequence: () => Promise.reject(new Error('no Plane here')),
};

export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  const journalFile =
    options.journalFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-intake-')), 'journal.sqlite');
  const metrics = options.metrics ?? createMetrics();
  const logger = options.logger ?? createLogger({ write: () => undefined });
  const intake = openIntake({
    client: options.client,
    config: options.config,
    logger,
    metrics,
    planeDirectory: options.planeDirectory,
    file: journalFile,
    forwarder: { baseBackoffMs: 50, maxBackoffMs: 500, pollMs: 100, ...options.forwarder },
  });
  const server = await listen(
    createApp({ client: options.client, config: options.config, logger, metrics, intake }),
    '127.0.0.1',
    0,
  );
  return {
    url: server.url,
    intake,
    metrics,
    journalFile,
    async close() {
      await server.close();
      await intake.close();
    },
  };
}
