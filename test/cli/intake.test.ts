// Dead letters end to end: a delivery Temporal refuses for good (its work item's input is larger
// than Temporal's blob limit) is dead-lettered without holding up the item's next delivery, then
// shown, retried and discarded with `orch intake` on the journal the running API writes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { journalFile } from '../../src/intake/journal';
import { PlaneClient } from '../../src/tracker/plane-client';
import { cachedPlaneDirectory } from '../../src/tracker/plane-directory';
import { startTestApi, type TestApi } from '../support/api-harness';
import { runOrch } from '../support/run-orch';
import { fakePlane, type FakeServer } from '../support/fake-trackers';
import { intakeConfig, intakeWorld, planeComment, planeCreated, postDelivery } from '../support/intake-world';
import { startTemporal } from '../support/temporal';
import { PLANE_API_KEY } from '../support/test-secrets';
import { signed } from '../support/webhook-fixtures';
import { uniqueTicketNumber } from '../support/work-item-harness';

jest.setTimeout(60_000);

const world = intakeWorld([['dlq', 'DLQ']], 1, Number(uniqueTicketNumber()));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-intake-cli-'));
const projectsFile = path.join(dataDir, 'projects.yaml');
let env: TestWorkflowEnvironment;
let plane: FakeServer;
let api: TestApi;

beforeAll(async () => {
  env = await startTemporal();
  plane = await fakePlane(world.plane());
  fs.writeFileSync(projectsFile, world.projectsYaml);
  api = await startTestApi({
    client: env.client,
    config: intakeConfig(world, { ORCH_TASK_QUEUE: 'intake-cli-no-worker', ORCH_WEBHOOK_MAX_BYTES: '4194304' }),
    planeDirectory: cachedPlaneDirectory(
      new PlaneClient({ baseUrl: plane.url, apiKey: PLANE_API_KEY, workspace: 'acme', http: { baseDelayMs: 1 } }),
    ),
    journalFile: journalFile(dataDir),
  });
});
afterAll(async () => {
  await api?.close();
  await plane?.close();
  await env.client.workflow
    .getHandle(world.items[0]!.workflowId)
    .terminate('test over')
    .catch(() => undefined);
});

async function waitForEntry(
  id: number,
  done: (entry: ReturnType<TestApi['intake']['journal']['get']>) => boolean,
  failure: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done(api.intake.journal.get(id))) {
    if (Date.now() > deadline) throw new Error(failure);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const orch = (...argv: string[]) =>
  runOrch(argv, {
    ORCH_PROJECTS_FILE: projectsFile,
    ORCH_DATA_DIR: dataDir,
    USER: 'cli-tester',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  });

test('a poison delivery is dead-lettered, its lane moves on, and orch intake shows, retries and discards it', async () => {
  const item = world.items[0]!;
  // A description past Temporal's 2 MB payload limit: INVALID_ARGUMENT, every time.
  const created = planeCreated(item);
  const body = JSON.parse(created.body.toString('utf8'));
  body.data.description_stripped = 'x'.repeat(2_500_000);
  const huge = signed('plane', body, { 'X-Plane-Event': 'issue', 'X-Plane-Delivery': 'd-huge' });
  const answer = await postDelivery(api.url, huge);
  // The answer waits at most 800 ms from receipt: a 2.5 MB body on a loaded machine may be
  // answered `queued` before Temporal has refused it. Either way it must end up a dead letter.
  expect(answer).toMatchObject({ status: 202, body: { entry: expect.any(Number) } });
  expect(['dead-lettered', 'queued']).toContain(answer.body.outcome);
  const dead = answer.body.entry as number;
  await waitForEntry(dead, (entry) => entry?.state === 'dead', 'the refused delivery was not dead-lettered');

  // The next delivery of the same item is not held up (its item does not exist: nothing to signal).
  const next = await postDelivery(api.url, planeComment(item, 'anyone there?'));
  expect(next).toMatchObject({ status: 202, body: { outcome: 'ignored', reason: 'no such work item' } });

  const overview = await orch('intake');
  expect(overview.code).toBe(0);
  expect(overview.out).toMatch(
    /^backlog: 0\ndead letters: 1\n {2}#\d+ {2}plane issue {2}\S+ {2}ServiceError: .*INVALID_ARGUMENT: Blob data size exceeds limit/m,
  );
  const json = JSON.parse((await orch('intake', '--json')).out);
  expect(json).toMatchObject({ backlog: 0, deadLetters: 1, deadLetterEntries: [{ id: dead, state: 'dead' }] });

  const shown = await orch('intake', 'show', String(dead));
  expect(shown.out).toContain(`#${dead}  dead  plane issue  lane plane:${item.id}`);
  expect(shown.out).toContain('delivery d-huge');
  expect(shown.out).toMatch(/payload: .*… \(\d+ bytes\)/);

  // Retried, it is refused again (the cause is not fixed) and is back among the dead letters.
  expect(await orch('intake', 'retry', String(dead))).toMatchObject({ code: 0, out: `retrying #${dead}` });
  await waitForEntry(dead, (entry) => entry?.attempts === 2, 'the retried entry was not forwarded again');
  expect(api.intake.journal.get(dead)).toMatchObject({ state: 'dead' });

  expect(await orch('intake', 'discard', String(dead))).toMatchObject({
    code: 2,
    err: expect.stringContaining('--reason'),
  });
  expect(await orch('intake', 'discard', String(dead), '--reason', 'description pasted twice; re-filed')).toMatchObject(
    {
      code: 0,
      out: `discarded #${dead}`,
    },
  );
  expect(api.intake.journal.get(dead)).toMatchObject({
    state: 'discarded',
    outcome: 'discarded by cli-tester: description pasted twice; re-filed',
  });
  expect(await orch('intake', 'retry', String(dead))).toMatchObject({
    code: 1,
    err: `orch: intake: only dead letters can be retried or discarded (#${dead} is discarded)`,
  });
  expect((await orch('intake')).out).toBe('backlog: 0\ndead letters: 0');
});

test('orch intake checks its words before it opens anything, and never creates a journal', async () => {
  expect(await orch('intake', 'show')).toMatchObject({ code: 2, err: expect.stringContaining('which entry') });
  expect(await orch('intake', 'show', '1;rm')).toMatchObject({
    code: 2,
    err: expect.stringContaining('not an entry id'),
  });
  expect(await orch('intake', 'frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('unknown action') });
  expect(await orch('intake', 'retry')).toMatchObject({ code: 2, err: expect.stringContaining('--all') });
  expect(await orch('intake', 'show', '999999')).toMatchObject({ code: 1, err: 'orch: intake: no entry #999999' });
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-intake-none-'));
  const none = await runOrch(['intake'], { ORCH_PROJECTS_FILE: projectsFile, ORCH_DATA_DIR: empty });
  expect(none.code).toBe(2);
  expect(none.err).toContain('no journal at');
  expect(fs.readdirSync(empty)).toEqual([]);
});
