// Local HTTP servers implementing the documented Plane and Gitea API contracts the orchestrator
// uses (status codes included: 401 on a bad key, 404, 409 on duplicates, 429 past a rate limit),
// so the real clients are tested over HTTP rather than against stubbed functions.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  readonly url: string;
  readonly requests: { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

type Handler = (method: string, path: string, body: unknown, headers: http.IncomingHttpHeaders) => { status: number; body?: unknown; headers?: Record<string, string> };

async function serve(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      requests.push({ method: req.method ?? '', path: req.url ?? '', body });
      const answer = handler(req.method ?? '', req.url ?? '', body, req.headers);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface FakePlaneOptions {
  readonly apiKey: string;
  readonly workspace: string;
  readonly projects: Record<string, { identifier: string; states: { id: string; name: string; group: string }[]; items: { id: string; sequence_id: number; name: string; state: string; updated_at?: string }[] }>;
  /** Answer 429 to every n-th request (Retry-After: 0). */
  readonly rateLimitEvery?: number;
}

export async function fakePlane(options: FakePlaneOptions): Promise<FakeServer & { comments: { itemId: string; external_id: string; html: string }[]; stateChanges: { itemId: string; state: string }[] }> {
  const comments: { itemId: string; external_id: string; html: string }[] = [];
  const stateChanges: { itemId: string; state: string }[] = [];
  let count = 0;
  const server = await serve((method, path, body, headers) => {
    count += 1;
    if (options.rateLimitEvery && count % options.rateLimitEvery === 0) return { status: 429, body: { detail: 'rate limited' }, headers: { 'retry-after': '0' } };
    if (headers['x-api-key'] !== options.apiKey) return { status: 401, body: { detail: 'Invalid API key' } };
    const url = new URL(path, 'http://x');
    const byIdentifier = /^\/api\/v1\/workspaces\/([^/]+)\/work-items\/([A-Z][A-Z0-9]*)-(\d+)\/$/.exec(url.pathname);
    if (byIdentifier && method === 'GET' && byIdentifier[1] === options.workspace) {
      for (const [projectId, p] of Object.entries(options.projects)) {
        const found = p.identifier === byIdentifier[2] ? p.items.find((i) => i.sequence_id === Number(byIdentifier[3])) : undefined;
        if (found) return { status: 200, body: { ...found, project: projectId } };
      }
      return { status: 404, body: { detail: 'Work item not found.' } };
    }
    const m = /^\/api\/v1\/workspaces\/([^/]+)\/projects\/([^/]+)\/(?:(states|work-items)\/(?:([^/]+)\/(comments\/)?)?)?$/.exec(url.pathname);
    if (!m || m[1] !== options.workspace) return { status: 404, body: { detail: 'Not found.' } };
    const project = options.projects[m[2]!];
    if (!project) return { status: 404, body: { detail: 'Project not found.' } };
    const [, , , collection, itemId, commentsPart] = m;
    if (!collection && method === 'GET') return { status: 200, body: { id: m[2], identifier: project.identifier } };
    if (collection === 'states' && method === 'GET') return { status: 200, body: { results: project.states } };
    if (collection === 'work-items' && !itemId && method === 'GET') {
      const perPage = Number(url.searchParams.get('per_page') ?? 100);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = project.items.slice(start, start + perPage);
      const next = start + perPage < project.items.length;
      return { status: 200, body: { results: page, next_cursor: String(start + perPage), next_page_results: next } };
    }
    const item = project.items.find((i) => i.id === itemId);
    if (!item) return { status: 404, body: { detail: 'Work item not found.' } };
    if (commentsPart && method === 'POST') {
      const b = body as { comment_html: string; external_id: string };
      if (comments.some((c) => c.itemId === item.id && c.external_id === b.external_id)) return { status: 409, body: { error: 'duplicate external_id' } };
      comments.push({ itemId: item.id, external_id: b.external_id, html: b.comment_html });
      return { status: 201, body: { id: `c${comments.length}` } };
    }
    if (method === 'GET') return { status: 200, body: item };
    if (method === 'PATCH') {
      const state = (body as { state: string }).state;
      if (!project.states.some((s) => s.id === state)) return { status: 400, body: { state: ['invalid state'] } };
      item.state = state;
      stateChanges.push({ itemId: item.id, state });
      return { status: 200, body: item };
    }
    return { status: 405, body: { detail: 'Method not allowed' } };
  });
  return Object.assign(server, { comments, stateChanges });
}

export async function fakeGitea(options: { token: string; repo: string; branches?: Record<string, string> }): Promise<
  FakeServer & { pulls: { number: number; head: string; base: string; title: string }[]; statuses: { sha: string; state: string; context: string; description: string }[]; comments: { issue: number; body: string }[] }
> {
  const pulls: { number: number; head: string; base: string; title: string }[] = [];
  const statuses: { sha: string; state: string; context: string; description: string }[] = [];
  const comments: { issue: number; body: string }[] = [];
  const server = await serve((method, path, body, headers) => {
    if (headers.authorization !== `token ${options.token}`) return { status: 401, body: { message: 'token is required' } };
    const prefix = `/api/v1/repos/${options.repo}`;
    if (!path.startsWith(prefix)) return { status: 404, body: { message: 'repository not found' } };
    const rest = path.slice(prefix.length);
    if (rest === '/pulls' && method === 'POST') {
      const b = body as { head: string; base: string; title: string };
      if (pulls.some((p) => p.head === b.head && p.base === b.base)) return { status: 409, body: { message: 'pull request already exists for these targets' } };
      const pr = { number: 17 + pulls.length, head: b.head, base: b.base, title: b.title };
      pulls.push(pr);
      return { status: 201, body: { number: pr.number, head: { ref: pr.head, sha: 'abc' } } };
    }
    const byBranches = /^\/pulls\/([^/]+)\/([^/]+)$/.exec(rest);
    if (byBranches && method === 'GET') {
      const pr = pulls.find((p) => p.base === decodeURIComponent(byBranches[1]!) && p.head === decodeURIComponent(byBranches[2]!));
      return pr ? { status: 200, body: { number: pr.number, head: { ref: pr.head, sha: 'abc' } } } : { status: 404, body: { message: 'not found' } };
    }
    const status = /^\/statuses\/([0-9a-f]+)$/.exec(rest);
    if (status && method === 'POST') {
      const b = body as { state: string; context: string; description: string };
      statuses.push({ sha: status[1]!, state: b.state, context: b.context, description: b.description });
      return { status: 201, body: { id: statuses.length } };
    }
    const branch = /^\/branches\/(.+)$/.exec(rest);
    if (branch && method === 'GET') {
      const sha = options.branches?.[decodeURIComponent(branch[1]!)];
      return sha ? { status: 200, body: { name: decodeURIComponent(branch[1]!), commit: { id: sha } } } : { status: 404, body: { message: 'branch not found' } };
    }
    const comment = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (comment && method === 'POST') {
      if (!pulls.some((p) => p.number === Number(comment[1]))) return { status: 404, body: { message: 'issue not found' } };
      comments.push({ issue: Number(comment[1]), body: (body as { body: string }).body });
      return { status: 201, body: { id: comments.length } };
    }
    return { status: 404, body: { message: 'not found' } };
  });
  return Object.assign(server, { pulls, statuses, comments });
}
