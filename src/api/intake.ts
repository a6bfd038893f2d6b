// The API's durable intake: the journal under the data directory, the forwarder that hands its
// entries to Temporal, and the webhook sources both share (ADR-0016).
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { Forwarder, type ForwarderOptions } from '../intake/forwarder';
import { GroupedAppends } from '../intake/group-append';
import { IntakeJournal, journalFile } from '../intake/journal';
import { claimJournal } from '../intake/journal-owner';
import type { PlaneDirectory } from '../tracker/plane-directory';
import type { Logger } from '../util/logger';
import type { ApiMetrics } from './metrics';
import { temporalForwarding } from './webhooks/forward';
import type { WebhookSource } from './webhooks/router';
import { giteaSource, planeSource } from './webhooks/sources';
import { itemByHead } from '../client/item-by-head';

export interface Intake {
  readonly journal: IntakeJournal;
  /** The journal's appends, grouped: what arrives in one turn of the event loop shares a disk sync. */
  readonly appends: GroupedAppends;
  readonly forwarder: Forwarder;
  readonly sources: Readonly<Record<string, WebhookSource>>;
  close(): Promise<void>;
}

export interface IntakeDeps {
  readonly client: Client;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly planeDirectory: PlaneDirectory;
  /** Defaults to <data>/intake/journal.sqlite. */
  readonly file?: string;
  readonly forwarder?: ForwarderOptions;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function openIntake(deps: IntakeDeps): Intake {
  const env = deps.config.env;
  const file = deps.file ?? journalFile(deps.config.dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const release = claimJournal(file);
  let journal: IntakeJournal;
  try {
    journal = new IntakeJournal(file, { sync: env.ORCH_INTAKE_SYNC, maxBacklog: env.ORCH_INTAKE_MAX_BACKLOG });
  } catch (err) {
    release();
    throw err;
  }
  const sources = {
    plane: planeSource(deps.config, deps.planeDirectory),
    gitea: giteaSource(deps.config, itemByHead(deps.client)),
  };
  const logger = deps.logger.child({ component: 'intake' });
  deps.metrics.intake.watch(journal);
  const forwarder = new Forwarder(
    journal,
    temporalForwarding({ client: deps.client, config: deps.config, journal, sources }),
    logger,
    deps.metrics.intake,
    { concurrency: env.ORCH_INTAKE_CONCURRENCY, maxBackoffMs: env.ORCH_INTAKE_MAX_BACKOFF_MS, ...deps.forwarder },
  );
  const retentionMs = env.ORCH_INTAKE_RETENTION_HOURS * 60 * 60 * 1000;
  const prune = (): void => {
    const pruned = journal.prune(retentionMs);
    if (pruned > 0) logger.info('pruned forwarded deliveries from the journal', { pruned });
  };
  prune();
  const pruning = setInterval(prune, PRUNE_EVERY_MS);
  pruning.unref();
  const { backlog, deadLetters } = journal.stats();
  logger.info('intake journal open', { file: journal.file, backlog, deadLetters });
  forwarder.start();
  return {
    journal,
    appends: new GroupedAppends(journal),
    forwarder,
    sources,
    async close() {
      clearInterval(pruning);
      await forwarder.stop();
      journal.close();
      release();
    },
  };
}
