// Local HTTP servers implementing the documented Plane and Gitea API contracts the orchestrator
// uses (status codes included: 401 on a bad key, 404, 409 on duplicates, 429 past a rate limit),
// so the real clients are tested over HTTP rather than against stubbed functions.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  readonly url: string;
  readonly requests: { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

type Handler = (
  method: string,
  path: string,
  body: unknown,
  headers: http.IncomingHttpHeaders,
) => { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };

async function serve(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      requests.push({ method: req.method ?? '', path: req.url ?? '', body });
      const answer = handler(req.method ?? '', req.url ?? '', body, req.headers);
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
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
  readonly projects: Record<
    string,
    {
      identifier: string;
      states: { id: string; name: string; group: string }[];
      /** The project's labels; the list API gives items' labels as these ids. */
      labels?: { id: string; name: string }[];
      items: {
        id: string;
        sequence_id: number;
        name: string;
        state: string;
        labels?: string[];
        updated_at?: string;
      }[];
    }
  >;
  /** The most work items one page holds, whatever per_page asks (Plane caps it too). */
  readonly maxPerPage?: number;
  /** Answer 429 to every n-th request (Retry-After: 0). */
  readonly rateLimitEvery?: number;
  /** How long to sit on a request before answering it (a slow Plane), asked per request. */
  readonly delayFor?: (method: string, path: string) => number;
}

export async function fakePlane(options: FakePlaneOptions): Promise<
  FakeServer & {
    comments: { itemId: string; external_id: string; html: string }[];
    stateChanges: { itemId: string; state: string }[];
  }
> {
  const comments: { itemId: string; external_id: string; html: string }[] = [];
  const stateChanges: { itemId: string; state: string }[] = [];
  let count = 0;
  const server = await serve((method, path, body, headers) => {
    const answer = planeAnswer(method, path, body, headers);
    return { ...answer, delayMs: options.delayFor?.(method, path) ?? 0 };
  });
  function planeAnswer(
    method: string,
    path: string,
    body: unknown,
    headers: http.IncomingHttpHeaders,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    count += 1;
    if (options.rateLimitEvery && count % options.rateLimitEvery === 0)
      return { status: 429, body: { detail: 'rate limited' }, headers: { 'retry-after': '0' } };
    if (headers['x-api-key'] !== options.apiKey) return { status: 401, body: { detail: 'Invalid API key' } };
    const url = new URL(path, 'http://x');
    const byIdentifier = /^\/api\/v1\/workspaces\/([^/]+)\/work-items\/([A-Z][A-Z0-9]*)-(\d+)\/$/.exec(url.pathname);
    if (byIdentifier && method === 'GET' && byIdentifier[1] === options.workspace) {
      for (const [projectId, p] of Object.entries(options.projects)) {
        const found =
          p.identifier === byIdentifier[2] ? p.items.find((i) => i.sequence_id === Number(byIdentifier[3])) : undefined;
        if (found) return { status: 200, body: { ...found, project: projectId } };
      }
      return { status: 404, body: { detail: 'Work item not found.' } };
    }
    const m =
      /^\/api\/v1\/workspaces\/([^/]+)\/projects\/([^/]+)\/(?:(states|labels|work-items)\/(?:([^/]+)\/(comments\/)?)?)?$/.exec(
        url.pathname,
      );
    if (!m || m[1] !== options.workspace) return { status: 404, body: { detail: 'Not found.' } };
    const project = options.projects[m[2]!];
    if (!project) return { status: 404, body: { detail: 'Project not found.' } };
    const [, , , collection, itemId, commentsPart] = m;
    if (!collection && method === 'GET') return { status: 200, body: { id: m[2], identifier: project.identifier } };
    if (collection === 'states' && method === 'GET') return { status: 200, body: { results: project.states } };
    if (collection === 'labels' && method === 'GET') return { status: 200, body: { results: project.labels ?? [] } };
    if (collection === 'work-items' && !itemId && method === 'GET') {
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 100), options.maxPerPage ?? 100);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = project.items.slice(start, start + perPage);
      const next = start + perPage < project.items.length;
      return { status: 200, body: { results: page, next_cursor: String(start + perPage), next_page_results: next } };
    }
    const item = project.items.find((i) => i.id === itemId);
    if (!item) return { status: 404, body: { detail: 'Work item not found.' } };
    if (commentsPart && method === 'POST') {
      const b = body as { comment_html: string; external_id: string };
      if (comments.some((c) => c.itemId === item.id && c.external_id === b.external_id))
        return { status: 409, body: { error: 'duplicate external_id' } };
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
  }
  return Object.assign(server, { comments, stateChanges });
}

export interface FakeGiteaOptions {
  readonly token: string;
  readonly repo: string;
  readonly branches?: Record<string, string>;
  /** A bare repository the fake merges into for real (POST /pulls/{n}/merge); without it merges 404. */
  readonly origin?: string;
  /** Answer 405 "Please try again later" to the first n merge requests (mergeability not computed yet). */
  readonly notMergeableYet?: number;
  /** Merge, then answer 500 to the first n merge requests (the answer is lost). */
  readonly loseMergeAnswers?: number;
  /** Refuse merges like a protected branch missing approvals (405). */
  readonly requireApprovals?: boolean;
}

export interface FakePull {
  readonly number: number;
  readonly head: string;
  readonly base: string;
  readonly title: string;
  /** The description, as last written (POST, then PATCH). */
  body: string;
  merged: boolean;
  mergeCommit?: string;
}

/** A commit status as posted to the fake (by the orchestrator, or by a test playing CI). */
export interface FakeStatus {
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string;
  readonly target_url?: string;
}

export async function fakeGitea(options: FakeGiteaOptions): Promise<
  FakeServer & {
    pulls: FakePull[];
    statuses: FakeStatus[];
    comments: { issue: number; body: string }[];
  }
> {
  const pulls: FakePull[] = [];
  const statuses: FakeStatus[] = [];
  const comments: { issue: number; body: string }[] = [];
  let mergeRequests = 0;
  /** The fake's own address, known once it listens (PR pages link there, as Gitea's do). */
  let webUrl = '';
  const pullBody = (pr: FakePull) => ({
    number: pr.number,
    html_url: `${webUrl}/${options.repo}/pulls/${pr.number}`,
    state: pr.merged ? 'closed' : 'open',
    merged: pr.merged,
    merge_commit_sha: pr.mergeCommit ?? null,
    head: { ref: pr.head, sha: 'abc' },
  });
  const server = await serve((method, path, body, headers) => {
    if (headers.authorization !== `token ${options.token}`)
      return { status: 401, body: { message: 'token is required' } };
    const prefix = `/api/v1/repos/${options.repo}`;
    if (!path.startsWith(prefix)) return { status: 404, body: { message: 'repository not found' } };
    const rest = path.slice(prefix.length);
    if (rest === '/pulls' && method === 'POST') {
      const b = body as { head: string; base: string; title: string; body?: string };
      if (pulls.some((p) => p.head === b.head && p.base === b.base && !p.merged))
        return { status: 409, body: { message: 'pull request already exists for these targets' } };
      const pr: FakePull = {
        number: 17 + pulls.length,
        head: b.head,
        base: b.base,
        title: b.title,
        body: b.body ?? '',
        merged: false,
      };
      pulls.push(pr);
      return { status: 201, body: pullBody(pr) };
    }
    const edit = /^\/pulls\/(\d+)$/.exec(rest);
    if (edit && method === 'PATCH') {
      const pr = pulls.find((p) => p.number === Number(edit[1]));
      if (!pr) return { status: 404, body: { message: 'pull request not found' } };
      const b = body as { body?: string };
      if (typeof b.body === 'string') pr.body = b.body;
      return { status: 201, body: pullBody(pr) };
    }
    const merge = /^\/pulls\/(\d+)\/merge$/.exec(rest);
    if (merge) {
      const pr = pulls.find((p) => p.number === Number(merge[1]));
      if (!pr) return { status: 404, body: { message: 'pull request not found' } };
      if (method === 'GET') return pr.merged ? { status: 204 } : { status: 404, body: { message: 'not merged' } };
      if (method === 'POST')
        return mergePull(pr, body as { Do: string; head_commit_id?: string; MergeTitleField?: string });
    }
    const byBranches = /^\/pulls\/([^/]+)\/([^/]+)$/.exec(rest);
    if (byBranches && method === 'GET') {
      // The newest PR for base and head, merged or not (as Gitea answers).
      const pr = pulls
        .filter((p) => p.base === decodeURIComponent(byBranches[1]!) && p.head === decodeURIComponent(byBranches[2]!))
        .at(-1);
      return pr ? { status: 200, body: pullBody(pr) } : { status: 404, body: { message: 'not found' } };
    }
    const status = /^\/statuses\/([0-9a-f]+)$/.exec(rest);
    if (status && method === 'POST') {
      const b = body as { state: string; context: string; description: string; target_url?: string };
      statuses.push({
        sha: status[1]!,
        state: b.state,
        context: b.context,
        description: b.description,
        ...(b.target_url ? { target_url: b.target_url } : {}),
      });
      return { status: 201, body: { id: statuses.length } };
    }
    const combined = /^\/commits\/([0-9a-f]+)\/status(\?.*)?$/.exec(rest);
    if (combined && method === 'GET') {
      // The latest status per context, Gitea's field names (`status`, not `state`).
      const latest = new Map(statuses.filter((st) => st.sha === combined[1]).map((st) => [st.context, st]));
      return {
        status: 200,
        body: {
          sha: combined[1],
          statuses: [...latest.values()].map((st) => ({
            context: st.context,
            status: st.state,
            description: st.description,
            target_url: st.target_url ?? '',
          })),
        },
      };
    }
    const branch = /^\/branches\/(.+)$/.exec(rest);
    if (branch && method === 'GET') {
      const sha = options.branches?.[decodeURIComponent(branch[1]!)];
      return sha
        ? { status: 200, body: { name: decodeURIComponent(branch[1]!), commit: { id: sha } } }
        : { status: 404, body: { message: 'branch not found' } };
    }
    const comment = /^\/issues\/(\d+)\/comments$/.exec(rest);
    if (comment && method === 'POST') {
      if (!pulls.some((p) => p.number === Number(comment[1])))
        return { status: 404, body: { message: 'issue not found' } };
      comments.push({ issue: Number(comment[1]), body: (body as { body: string }).body });
      return { status: 201, body: { id: comments.length } };
    }
    return { status: 404, body: { message: 'not found' } };
  });

  /** Gitea's merge endpoint: its refusals (405, 409) and a real merge pushed to the bare origin. */
  function mergePull(
    pr: FakePull,
    b: { Do: string; head_commit_id?: string; MergeTitleField?: string },
  ): { status: number; body?: unknown } {
    mergeRequests += 1;
    if (!options.origin) return { status: 404, body: { message: 'the fake has no repository to merge in' } };
    if (pr.merged) return { status: 405, body: { message: '' } };
    if (options.requireApprovals) return { status: 405, body: { message: 'Does not have enough approvals' } };
    if (mergeRequests <= (options.notMergeableYet ?? 0))
      return { status: 405, body: { message: 'Please try again later' } };
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-gitea-merge-'));
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', work, '-c', 'user.name=Gitea', '-c', 'user.email=gitea@example.invalid', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    try {
      execFileSync('git', ['clone', '--quiet', options.origin, work], { stdio: 'ignore' });
      const head = git('rev-parse', `origin/${pr.head}`).trim();
      if (b.head_commit_id && b.head_commit_id !== head) return { status: 409, body: { message: 'head out of date' } };
      git('checkout', '--quiet', pr.base);
      try {
        if (b.Do === 'fast-forward-only') git('merge', '--quiet', '--ff-only', head);
        else if (b.Do === 'merge')
          git(
            'merge',
            '--quiet',
            '--no-ff',
            '-m',
            b.MergeTitleField || `Merge pull request '${pr.title}' (#${pr.number})`,
            head,
          );
        else
          return {
            status: 405,
            body: { message: `${b.Do} is not allowed an allowed merge style for this repository` },
          };
      } catch {
        return { status: 409, body: { message: 'merge failed because of conflict' } };
      }
      git('push', '--quiet', 'origin', `HEAD:refs/heads/${pr.base}`);
      pr.merged = true;
      pr.mergeCommit = git('rev-parse', 'HEAD').trim();
      if (mergeRequests <= (options.loseMergeAnswers ?? 0)) return { status: 500, body: { message: 'proxy error' } };
      return { status: 200 };
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  webUrl = server.url;
  return Object.assign(server, { pulls, statuses, comments });
}
