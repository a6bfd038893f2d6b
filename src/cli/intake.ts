// `orch intake`: the API's intake journal on this machine (ADR-0016): its backlog, and the dead
// letters (deliveries Temporal refused for good, or that met a configuration problem), which a
// person retries once the cause is fixed, or discards. Opens the journal file the API writes;
// SQLite's WAL lets both work at once.
import fs from 'node:fs';
import { IntakeJournal, journalFile, type JournalEntry } from '../intake/journal';
import { CliError, type CommandContext, type CommandOutput } from './context';

const USAGE = 'orch intake [show ID | retry ID... | retry --all | discard ID... --reason R]';

export interface IntakeOptions {
  readonly all?: boolean;
  readonly reason?: string;
  readonly by: string;
}

export function intakeCommand(
  positionals: readonly string[],
  options: IntakeOptions,
  ctx: CommandContext,
): CommandOutput {
  const [action, ...rest] = positionals;
  if (action !== undefined && !['show', 'retry', 'discard'].includes(action))
    throw new CliError(`intake: unknown action ${JSON.stringify(action)} (use: ${USAGE})`);
  const ids = rest.map(entryId);
  if ((action === 'show' || action === 'discard') && ids.length === 0)
    throw new CliError(`intake ${action}: which entry? (use: ${USAGE})`);
  if (action === 'retry' && ids.length === 0 && !options.all)
    throw new CliError(`intake retry: give entry ids or --all (use: ${USAGE})`);
  if (action === 'discard' && !options.reason?.trim())
    throw new CliError('intake discard: --reason is required (it is kept with the entry)');

  const file = journalFile(ctx.config.dataDir);
  if (!fs.existsSync(file))
    throw new CliError(`intake: no journal at ${file} (run this where the API runs, with its ORCH_DATA_DIR)`);
  const journal = new IntakeJournal(file, { mustExist: true });
  try {
    switch (action) {
      case undefined:
        return overview(journal);
      case 'show': {
        const entries = ids.map((id) => found(journal, id));
        return { json: entries, text: entries.map(describe).join('\n\n') };
      }
      case 'retry': {
        const targets = options.all ? journal.deadLetters(10_000).map((e) => e.id) : ids;
        const revived = targets.filter((id) => journal.revive(id));
        notDead(targets, revived, journal);
        return {
          json: { retried: revived },
          text: revived.length === 0 ? 'no dead letters' : `retrying ${revived.map((id) => `#${id}`).join(', ')}`,
        };
      }
      case 'discard': {
        const note = `discarded by ${options.by}: ${options.reason!.trim()}`;
        const discarded = ids.filter((id) => journal.discard(id, note));
        notDead(ids, discarded, journal);
        return { json: { discarded }, text: `discarded ${discarded.map((id) => `#${id}`).join(', ')}` };
      }
    }
    throw new CliError(`intake: unknown action (use: ${USAGE})`);
  } finally {
    journal.close();
  }
}

function overview(journal: IntakeJournal): CommandOutput {
  const stats = journal.stats();
  const dead = journal.deadLetters();
  const oldest =
    stats.oldestReceivedAt === undefined ? undefined : Math.round((Date.now() - stats.oldestReceivedAt) / 1000);
  const lines = [
    `backlog: ${stats.backlog}${oldest === undefined ? '' : ` (oldest ${oldest} s)`}`,
    `dead letters: ${stats.deadLetters}`,
    ...dead.map(
      (e) => `  #${e.id}  ${e.source} ${e.event}  ${new Date(e.receivedAt).toISOString()}  ${e.lastError ?? ''}`,
    ),
  ];
  if (dead.length > 0) lines.push('', 'orch intake show ID | retry ID | discard ID --reason R');
  return { json: { ...stats, deadLetterEntries: dead.map(summary) }, text: lines.join('\n') };
}

function entryId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text))
    throw new CliError(`intake: ${JSON.stringify(text.slice(0, 40))} is not an entry id`);
  return Number(text);
}

function found(journal: IntakeJournal, id: number): JournalEntry {
  const entry = journal.get(id);
  if (!entry) throw new Error(`intake: no entry #${id}`);
  return entry;
}

function notDead(asked: readonly number[], acted: readonly number[], journal: IntakeJournal): void {
  const missed = asked.filter((id) => !acted.includes(id));
  if (missed.length === 0) return;
  const why = missed.map((id) => `#${id} is ${journal.get(id)?.state ?? 'unknown'}`).join(', ');
  throw new Error(`intake: only dead letters can be retried or discarded (${why})`);
}

function summary(e: JournalEntry) {
  const { payload: _payload, action: _action, ...rest } = e;
  return rest;
}

function describe(e: JournalEntry): string {
  return [
    `#${e.id}  ${e.state}  ${e.source} ${e.event}  lane ${e.lane}`,
    `received ${new Date(e.receivedAt).toISOString()}  delivery ${e.deliveryId ?? '-'}  attempts ${e.attempts}`,
    ...(e.lastError ? [`last error: ${e.lastError}`] : []),
    ...(e.outcome ? [`outcome: ${e.outcome}`] : []),
    `action: ${e.action ?? '(not resolved yet)'}`,
    `payload: ${e.payload.length > 2000 ? `${e.payload.slice(0, 2000)}… (${e.payload.length} bytes)` : e.payload}`,
  ].join('\n');
}
