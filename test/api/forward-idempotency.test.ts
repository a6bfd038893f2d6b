// A journal entry forwarded again (the forwarder retries after an ambiguous failure: the deadline
// passed after Temporal had taken the call) reaches the work item's history once: its signal and
// its signal-with-start carry a request ID derived from the delivery's key (seen in CI as a
// doubled start after the dev server came back from an outage).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { IntakeJournal, type JournalEntry } from '../../src/intake/journal';
import { requestIdFor } from '../../src/client/keyed-requests';
import type { WebhookAction } from '../../src/api/webhooks/actions';
import { temporalForwarding } from '../../src/api/webhooks/forward';
import { historyEffects } from '../support/history-effects';
import { intakeConfig, intakeWorld } from '../support/intake-world';
import { startTemporal } from '../support/temporal';
import { uniqueTicketNumber } from '../support/work-item-harness';

const world = intakeWorld([['idem', 'IDEM']], 1, Number(uniqueTicketNumber()));
const item = world.items[0]!;
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTemporal();
});

afterAll(async () => {
  await env.client.workflow
    .getHandle(item.workflowId)
    .terminate('test over')
    .catch(() => undefined);
});

let nextId = 1;
function entry(key: string, action: WebhookAction): JournalEntry {
  return {
    id: nextId++,
    key,
    lane: item.workflowId,
    source: 'plane',
    event: 'issue',
    deliveryId: null,
    receivedAt: Date.now(),
    payload: '{}',
    action: JSON.stringify(action),
    state: 'pending',
    attempts: 0,
    nextAt: 0,
    lastError: null,
    outcome: null,
    doneAt: null,
    traceContext: null,
  };
}

test('the same delivery forwarded twice is signalled once; other deliveries still arrive', async () => {
  // No worker polls this item's queue: the history shows exactly what the server took.
  const config = intakeConfig(world, { ORCH_TASK_QUEUE: `forward-idempotency-${process.pid}` });
  const journal = new IntakeJournal(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-idem-')), 'journal.sqlite'));
  const forward = temporalForwarding({ client: env.client, config, journal, sources: {} });
  const started = entry('plane:created', {
    kind: 'start',
    project: item.project,
    info: { ticket: item.ticket, title: 'Coupons', description: '' },
    event: { source: 'plane', type: 'created' },
  });
  const comment = (key: string) =>
    entry(key, {
      kind: 'signal',
      project: item.project,
      ticket: item.ticket,
      event: { source: 'plane', type: 'comment', summary: key },
    });

  for (const e of [started, started, comment('plane:c1'), comment('plane:c1'), comment('plane:c2'), started])
    expect(await forward(e)).toMatchObject({ kind: 'done', workflowId: item.workflowId });

  expect(await historyEffects(env.client, item.workflowId)).toEqual(['plane:created', 'plane:c1', 'plane:c2']);
  journal.close();
});

test('request IDs: one per key, UUID-shaped', () => {
  expect(requestIdFor('plane:a')).toBe(requestIdFor('plane:a'));
  expect(requestIdFor('plane:a')).not.toBe(requestIdFor('plane:b'));
  expect(requestIdFor('plane:a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});
