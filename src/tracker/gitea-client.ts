// Gitea REST API v1: pull requests, commit statuses and comments.
import { HttpClient, TrackerError, type HttpClientOptions } from './http';

export interface GiteaPull {
  readonly number: number;
  readonly html_url?: string;
  readonly merged?: boolean;
  readonly head: { readonly ref: string; readonly sha: string };
}

export type CommitState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

export class GiteaClient {
  private readonly http: HttpClient;

  constructor(options: { baseUrl: string; token: string; http?: Partial<HttpClientOptions> }) {
    this.http = new HttpClient({ name: 'Gitea', baseUrl: options.baseUrl, headers: { authorization: `token ${options.token}` }, ...options.http });
  }

  /** Opens the PR for head → base, or returns the open one (Gitea answers 409 when it exists). */
  async ensurePullRequest(repo: string, head: string, base: string, title: string, body: string): Promise<GiteaPull> {
    const created = await this.http.request<GiteaPull>('POST', `api/v1/repos/${repo}/pulls`, { head, base, title, body }, [409]);
    if (created.status !== 409) return created.body;
    const existing = await this.findPullRequest(repo, head, base);
    if (!existing) throw new TrackerError(`Gitea reported a pull request for ${head} → ${base} but none was found`, 409, false);
    return existing;
  }

  /** The commit a branch points at, or undefined when the branch does not exist. */
  async branchHead(repo: string, branch: string): Promise<string | undefined> {
    const { status, body } = await this.http.request<{ commit?: { id: string } }>('GET', `api/v1/repos/${repo}/branches/${encodeURIComponent(branch)}`, undefined, [404]);
    return status === 404 ? undefined : body?.commit?.id;
  }

  /** The open PR for head → base, if any. */
  async findPullRequest(repo: string, head: string, base: string): Promise<GiteaPull | undefined> {
    const { status, body } = await this.http.request<GiteaPull>('GET', `api/v1/repos/${repo}/pulls/${encodeURIComponent(base)}/${encodeURIComponent(head)}`, undefined, [404]);
    return status === 404 ? undefined : body;
  }

  async setStatus(repo: string, sha: string, state: CommitState, context: string, description: string, targetUrl?: string): Promise<void> {
    await this.http.request('POST', `api/v1/repos/${repo}/statuses/${sha}`, { state, context, description: description.slice(0, 255), target_url: targetUrl ?? '' });
  }

  async comment(repo: string, issueNumber: number, body: string): Promise<void> {
    await this.http.request('POST', `api/v1/repos/${repo}/issues/${issueNumber}/comments`, { body });
  }
}
