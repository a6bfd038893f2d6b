// Plane (Community Edition) REST API v1: the calls the orchestrator makes.
import { HttpClient, type HttpClientOptions } from './http';

export interface PlaneWorkItem {
  readonly id: string;
  readonly sequence_id: number;
  readonly name: string;
  readonly description_html?: string | null;
  readonly description_stripped?: string | null;
  readonly state: string | { readonly id: string };
  readonly labels?: readonly (string | { readonly id: string; readonly name?: string })[];
  readonly updated_at?: string;
}

export interface PlaneState {
  readonly id: string;
  readonly name: string;
  readonly group: string;
}

export interface PlaneLabelInfo {
  readonly id: string;
  readonly name: string;
}

interface Page<T> {
  readonly results: readonly T[];
  readonly next_cursor?: string;
  readonly next_page_results?: boolean;
}

export interface PlaneClientOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly workspace: string;
  readonly http?: Partial<HttpClientOptions>;
}

export class PlaneClient {
  private readonly http: HttpClient;
  private readonly ws: string;

  constructor(options: PlaneClientOptions) {
    this.ws = `api/v1/workspaces/${encodeURIComponent(options.workspace)}`;
    this.http = new HttpClient({
      name: 'Plane',
      baseUrl: options.baseUrl,
      headers: { 'x-api-key': options.apiKey },
      ...options.http,
    });
  }

  async projectIdentifier(projectId: string): Promise<string> {
    const { body } = await this.http.request<{ identifier: string }>(
      'GET',
      `${this.ws}/projects/${segment(projectId)}/`,
    );
    return body.identifier;
  }

  async states(projectId: string): Promise<PlaneState[]> {
    const { body } = await this.http.request<Page<PlaneState> | PlaneState[]>(
      'GET',
      `${this.ws}/projects/${segment(projectId)}/states/`,
    );
    return Array.isArray(body) ? [...body] : [...body.results];
  }

  /** The project's labels: the list API gives a work item's labels as ids, the catch-up needs names. */
  async labels(projectId: string): Promise<PlaneLabelInfo[]> {
    const { body } = await this.http.request<Page<PlaneLabelInfo> | PlaneLabelInfo[]>(
      'GET',
      `${this.ws}/projects/${segment(projectId)}/labels/`,
    );
    return Array.isArray(body) ? [...body] : [...body.results];
  }

  async workItem(projectId: string, workItemId: string): Promise<PlaneWorkItem> {
    return (
      await this.http.request<PlaneWorkItem>(
        'GET',
        `${this.ws}/projects/${segment(projectId)}/work-items/${segment(workItemId)}/`,
      )
    ).body;
  }

  /** Every work item of the project, page by page (for the catch-up job). */
  async *workItems(projectId: string, perPage = 100): AsyncGenerator<PlaneWorkItem> {
    let cursor: string | undefined;
    for (;;) {
      const query = `per_page=${perPage}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { body } = await this.http.request<Page<PlaneWorkItem>>(
        'GET',
        `${this.ws}/projects/${segment(projectId)}/work-items/?${query}`,
      );
      yield* body.results;
      if (!body.next_page_results || !body.next_cursor) return;
      cursor = body.next_cursor;
    }
  }

  /** By the human id, e.g. `SHOP-42`. */
  async workItemByIdentifier(ticket: string): Promise<PlaneWorkItem & { readonly project: string }> {
    return (
      await this.http.request<PlaneWorkItem & { project: string }>(
        'GET',
        `${this.ws}/work-items/${encodeURIComponent(ticket)}/`,
      )
    ).body;
  }

  async setState(projectId: string, workItemId: string, stateId: string): Promise<void> {
    await this.http.request('PATCH', `${this.ws}/projects/${segment(projectId)}/work-items/${segment(workItemId)}/`, {
      state: stateId,
    });
  }

  /** Idempotent through external_id: Plane answers 409 for a duplicate, which counts as done. */
  async comment(
    projectId: string,
    workItemId: string,
    html: string,
    externalId: string,
  ): Promise<'created' | 'duplicate'> {
    const { status } = await this.http.request(
      'POST',
      `${this.ws}/projects/${segment(projectId)}/work-items/${segment(workItemId)}/comments/`,
      { comment_html: html, external_source: 'temporal-orchestrator', external_id: externalId },
      [409],
    );
    return status === 409 ? 'duplicate' : 'created';
  }
}

/** An id as one path segment: encoded, so no id can climb out of its place in the URL. */
function segment(id: string): string {
  return encodeURIComponent(id);
}
