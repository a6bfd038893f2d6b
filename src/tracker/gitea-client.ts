// Gitea REST API v1: pull requests, commit statuses and comments.
import { HttpClient, TrackerError, type HttpClientOptions } from './http';

export interface GiteaPull {
  readonly number: number;
  readonly html_url?: string;
  readonly state?: 'open' | 'closed';
  readonly merged?: boolean;
  readonly merge_commit_sha?: string | null;
  readonly head: { readonly ref: string; readonly sha: string };
}

/** Gitea's merge styles (`Do`); fast-forward-only needs Gitea 1.21 or later. */
export type GiteaMergeStyle = 'merge' | 'rebase' | 'rebase-merge' | 'squash' | 'fast-forward-only';

/**
 * What one merge request got. `refused` carries Gitea's status: 405 (already merged, not allowed,
 * not mergeable yet, required checks or approvals missing), 409 (conflict, head or base moved),
 * 404 (closed). `unknown`: no answer or a server error, so the merge may or may not have happened.
 */
export type GiteaMergeAnswer =
  | { readonly outcome: 'merged' }
  | { readonly outcome: 'refused'; readonly status: 404 | 405 | 409; readonly message: string }
  | { readonly outcome: 'unknown'; readonly detail: string };

export type CommitState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

/** One context's latest status on a commit, as Gitea's combined status lists it. */
export interface GiteaCommitStatus {
  readonly context: string;
  /** Gitea names the state `status` here (and `state` in deliveries). */
  readonly status: string;
  readonly description?: string | null;
  readonly target_url?: string | null;
}

export class GiteaClient {
  private readonly http: HttpClient;
  /** Gitea's web address (the API's base): links in PR bodies point there. */
  readonly webUrl: string;

  constructor(options: { baseUrl: string; token: string; http?: Partial<HttpClientOptions> }) {
    this.webUrl = options.baseUrl.replace(/\/+$/, '');
    this.http = new HttpClient({
      name: 'Gitea',
      baseUrl: options.baseUrl,
      headers: { authorization: `token ${options.token}` },
      ...options.http,
    });
  }

  /** Opens the PR for head → base, or returns the open one (Gitea answers 409 when it exists). */
  async ensurePullRequest(repo: string, head: string, base: string, title: string, body: string): Promise<GiteaPull> {
    const created = await this.http.request<GiteaPull>(
      'POST',
      `api/v1/repos/${repo}/pulls`,
      { head, base, title, body },
      [409],
    );
    if (created.status !== 409) return created.body;
    const existing = await this.findPullRequest(repo, head, base);
    if (!existing)
      throw new TrackerError(`Gitea reported a pull request for ${head} → ${base} but none was found`, 409, false);
    return existing;
  }

  /** Replaces the PR's description (the orchestrator's summary of the item). */
  async updatePullRequestBody(repo: string, number: number, body: string): Promise<void> {
    await this.http.request('PATCH', `api/v1/repos/${repo}/pulls/${number}`, { body });
  }

  /** The commit a branch points at, or undefined when the branch does not exist. */
  async branchHead(repo: string, branch: string): Promise<string | undefined> {
    const { status, body } = await this.http.request<{ commit?: { id: string } }>(
      'GET',
      `api/v1/repos/${repo}/branches/${encodeURIComponent(branch)}`,
      undefined,
      [404],
    );
    return status === 404 ? undefined : body?.commit?.id;
  }

  /** The open PR for head → base, if any. */
  async findPullRequest(repo: string, head: string, base: string): Promise<GiteaPull | undefined> {
    const { status, body } = await this.http.request<GiteaPull>(
      'GET',
      `api/v1/repos/${repo}/pulls/${encodeURIComponent(base)}/${encodeURIComponent(head)}`,
      undefined,
      [404],
    );
    return status === 404 ? undefined : body;
  }

  /** Whether the PR is merged (Gitea answers 204 when it is, 404 when not). */
  async isMerged(repo: string, number: number): Promise<boolean> {
    const { status } = await this.http.request('GET', `api/v1/repos/${repo}/pulls/${number}/merge`, undefined, [404]);
    return status === 204;
  }

  /**
   * Asks Gitea once to merge the PR, only if its head is still `headCommitId`. Never retried
   * here: a merge is not safe to repeat blindly, so the caller checks `isMerged` first.
   */
  async mergePullRequest(
    repo: string,
    number: number,
    options: { style: GiteaMergeStyle; headCommitId: string; title: string },
  ): Promise<GiteaMergeAnswer> {
    const body = {
      Do: options.style,
      head_commit_id: options.headCommitId,
      MergeTitleField: options.title,
      delete_branch_after_merge: false,
    };
    try {
      const { status, body: answer } = await this.http.request<{ message?: string } | undefined>(
        'POST',
        `api/v1/repos/${repo}/pulls/${number}/merge`,
        body,
        [404, 405, 409],
        { retry: false },
      );
      if (status === 404 || status === 405 || status === 409)
        return { outcome: 'refused', status, message: answer?.message ?? '' };
      return { outcome: 'merged' };
    } catch (err) {
      if (err instanceof TrackerError && (err.status === undefined || err.status >= 500))
        return { outcome: 'unknown', detail: err.message };
      throw err;
    }
  }

  async setStatus(
    repo: string,
    sha: string,
    state: CommitState,
    context: string,
    description: string,
    targetUrl?: string,
  ): Promise<void> {
    await this.http.request('POST', `api/v1/repos/${repo}/statuses/${sha}`, {
      state,
      context,
      description: description.slice(0, 255),
      target_url: targetUrl ?? '',
    });
  }

  /** The latest status of each context on a commit (Gitea's combined status; none when unknown). */
  async latestStatuses(repo: string, sha: string): Promise<readonly GiteaCommitStatus[]> {
    const { status, body } = await this.http.request<{ statuses?: GiteaCommitStatus[] | null }>(
      'GET',
      `api/v1/repos/${repo}/commits/${encodeURIComponent(sha)}/status?limit=50`,
      undefined,
      [404],
    );
    return status === 404 ? [] : (body?.statuses ?? []);
  }

  async comment(repo: string, issueNumber: number, body: string): Promise<void> {
    await this.http.request('POST', `api/v1/repos/${repo}/issues/${issueNumber}/comments`, { body });
  }
}
