// Bad input beyond the fixtures: the API never answers 5xx for it and never crashes.
// Bounded: a fixed number of requests to 127.0.0.1 with a seeded generator.
import crypto from 'node:crypto';
import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { startTestApi, type TestApi } from '../support/api-harness';
import { GITEA_SECRET, PLANE_SECRET, delivery, fixtureConfig, FIXTURE_NAMES } from '../support/webhook-fixtures';

let api: TestApi;
/** Ids the mapping asked the Plane directory about: only UUIDs may ever get there. */
const directoryCalls: string[] = [];
beforeAll(async () => {
  // No workflow may be touched: a client to nowhere, and the journal must stay empty.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const directory = {
    projectIdentifier: async () => 'SHOP',
    stateGroup: async () => undefined,
    workItemSequence: async (_project: string, id: string) => (directoryCalls.push(id), 42),
  };
  api = await startTestApi({
    client,
    config: fixtureConfig({ ORCH_WEBHOOK_MAX_BYTES: '32768' }),
    planeDirectory: directory,
  });
});
afterAll(async () => api?.close());

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

async function rawPost(path: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return (await rawAnswer(path, headers, body)).status;
}

const sign = (secret: string, body: Buffer) => crypto.createHmac('sha256', secret).update(body).digest('hex');

test('random, truncated, mis-typed and oversized deliveries never get a 5xx', async () => {
  const random = seeded(42);
  const statuses = new Map<number, number>();
  const record = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const contentTypes = [
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    '',
    'application/json; charset=latin1',
  ];

  for (let i = 0; i < 150; i++) {
    const source = random() < 0.5 ? 'plane' : 'gitea';
    const base = delivery(FIXTURE_NAMES[Math.floor(random() * FIXTURE_NAMES.length)]!);
    let body: Buffer;
    const mode = Math.floor(random() * 4);
    if (mode === 0) body = crypto.randomBytes(Math.floor(random() * 2048));
    else if (mode === 1) body = base.body.subarray(0, Math.floor(random() * base.body.length));
    else if (mode === 2)
      body = Buffer.from(
        JSON.stringify({
          event: 'issue',
          action: 'created',
          data: { project: random() < 0.5 ? 42 : null },
          n: random(),
        }),
      );
    else
      body = Buffer.from(
        JSON.stringify(
          JSON.parse(base.body.toString('utf8'), (_k, v) => (typeof v === 'string' && random() < 0.3 ? 12345 : v)),
        ),
      );
    // Half are correctly signed, so the parser and mapper see them too.
    const secret = source === 'plane' ? PLANE_SECRET : GITEA_SECRET;
    const signature = random() < 0.5 ? sign(secret, body) : crypto.randomBytes(32).toString('hex');
    const headers: Record<string, string> = {
      'content-type': contentTypes[Math.floor(random() * contentTypes.length)]!,
      [source === 'plane' ? 'x-plane-signature' : 'x-gitea-signature']: signature,
      [source === 'plane' ? 'x-plane-event' : 'x-gitea-event-type']: [
        'issue',
        'issue_comment',
        'push',
        'pull_request',
        'status',
        'x',
      ][Math.floor(random() * 6)]!,
    };
    if (headers['content-type'] === '') delete headers['content-type'];
    record(await rawPost(`/webhooks/${source}`, headers, body));
  }
  // Oversized body and oversized headers.
  record(await rawPost('/webhooks/plane', { 'content-type': 'application/json' }, Buffer.alloc(40_000, 'a')));
  record(
    await rawPost(
      '/webhooks/gitea',
      { 'content-type': 'application/json', 'x-junk': 'j'.repeat(20_000) },
      Buffer.from('{}'),
    ).catch(() => 431),
  );

  const serverErrors = [...statuses.entries()].filter(([status]) => status >= 500);
  expect(serverErrors).toEqual([]);
  // A journalled entry would mean a bad delivery was accepted: none may be.
  expect(api.intake.journal.stats()).toEqual({ backlog: 0, oldestReceivedAt: undefined, deadLetters: 0 });
  expect(api.intake.journal.pending()).toEqual([]);
  expect([...statuses.keys()].every((s) => [202, 400, 401, 413, 415, 431].includes(s))).toBe(true);
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
});

function rawAnswer(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.url);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function signedPlane(
  mutate: (body: Record<string, unknown>) => unknown,
  fixture = 'plane-issue-created',
  event?: string,
): [Record<string, string>, Buffer] {
  const raw = delivery(fixture).body.toString('utf8');
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  const changed = mutate(parsed) ?? parsed;
  const body = Buffer.from(typeof changed === 'string' ? changed : JSON.stringify(changed));
  return [
    {
      'content-type': 'application/json',
      'x-plane-signature': sign(PLANE_SECRET, body),
      'x-plane-event': event ?? String(parsed.event),
    },
    body,
  ];
}

test('crafted requests get a clear 4xx (or 202 ignored) in JSON, never HTML, a stack trace or a call with bad ids', async () => {
  const answers: { what: string; status: number; type: string; text: string }[] = [];
  const ask = async (what: string, path: string, [headers, body]: [Record<string, string>, Buffer]) =>
    answers.push({ what, ...(await rawAnswer(path, headers, body)) });
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    await ask(`source ${name}`, `/webhooks/${name}`, [{ 'content-type': 'application/json' }, Buffer.from('{}')]);
  }
  await ask(
    'huge sequence_id',
    '/webhooks/plane',
    signedPlane((b) => void ((b.data as Record<string, unknown>).sequence_id = 10_000_000_000)),
  );
  await ask(
    'deep new_value',
    '/webhooks/plane',
    signedPlane((b) =>
      JSON.stringify(b).replace(/}$/, `,"activity":{"new_value":${'['.repeat(15_000)}${']'.repeat(15_000)}}}`),
    ),
  );
  await ask(
    'path in a comment id',
    '/webhooks/plane',
    signedPlane(
      (b) => void ((b.data as Record<string, unknown>).issue = '../../../../../../users/me'),
      'plane-issue_comment-created',
    ),
  );
  await ask(
    'project event',
    '/webhooks/plane',
    signedPlane((b) => void (b.event = 'project'), 'plane-issue-created', 'project'),
  );
  await ask(
    'header and body disagree',
    '/webhooks/plane',
    signedPlane(() => undefined, 'plane-issue-created', 'issue_comment'),
  );

  for (const a of answers) {
    expect({
      what: a.what,
      json: a.type.startsWith('application/json'),
      html: /<html|<pre>|at [\w.]+ \(/i.test(a.text),
      absolutePath: a.text.includes(process.cwd()),
    }).toEqual({ what: a.what, json: true, html: false, absolutePath: false });
  }
  expect(answers.map((a) => [a.what, a.status])).toEqual([
    ['source constructor', 404],
    ['source __proto__', 404],
    ['source toString', 404],
    ['source hasOwnProperty', 404],
    ['source valueOf', 404],
    ['huge sequence_id', 400],
    ['deep new_value', 400],
    ['path in a comment id', 400],
    ['project event', 202],
    ['header and body disagree', 400],
  ]);
  expect(JSON.parse(answers[8]!.text)).toMatchObject({
    outcome: 'ignored',
    reason: 'Plane event project is not handled',
  });
  expect(directoryCalls.filter((id) => !/^[0-9a-f-]{36}$/.test(id))).toEqual([]);
  expect(api.intake.journal.stats().backlog).toBe(0);
});
