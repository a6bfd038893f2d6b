// A small JSON-over-HTTP client for tracker APIs: retries with backoff on 429 (honouring
// Retry-After), 5xx and network errors; classifies what a person must fix. Credentials travel
// only in headers, and no header or URL query ever reaches an error message.

export class TrackerError extends Error {
  override readonly name = 'TrackerError';
  constructor(
    message: string,
    readonly status: number | undefined,
    /** 401/403/404/422: a token, a permission or a configured id is wrong; retrying will not help. */
    readonly personMustFix: boolean,
  ) {
    super(message);
  }
}

export interface HttpClientOptions {
  readonly name: string;
  readonly baseUrl: string;
  readonly headers: Record<string, string>;
  readonly maxRetries?: number;
  readonly baseDelayMs?: number;
  readonly timeoutMs?: number;
}

export interface HttpResponse<T> {
  readonly status: number;
  readonly body: T;
}

const PERSON_MUST_FIX = new Set([400, 401, 403, 404, 422]);

export class HttpClient {
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpClientOptions) {
    this.maxRetries = options.maxRetries ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /**
   * Resolves for 2xx and for statuses listed in `accept` (e.g. 409 for idempotent creates).
   * `retry: false` for requests that are not safe to repeat blindly (a merge): the caller checks
   * what happened before it tries again.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
    options: { retry?: boolean } = {},
  ): Promise<HttpResponse<T>> {
    const maxRetries = options.retry === false ? 0 : this.maxRetries;
    const url = new URL(
      path.replace(/^\//, ''),
      this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`,
    );
    const where = `${this.options.name} ${method} ${url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...this.options.headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        if (attempt < maxRetries) {
          await delay(this.backoff(attempt));
          continue;
        }
        throw new TrackerError(`${where}: unreachable (${(err as Error).name})`, undefined, false);
      }
      if (response.ok || accept.includes(response.status)) {
        const text = await response.text();
        return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
      }
      const retryable = response.status === 429 || response.status >= 500;
      if (retryable && attempt < maxRetries) {
        await response.body?.cancel();
        await delay(response.status === 429 ? this.retryAfter(response, attempt) : this.backoff(attempt));
        continue;
      }
      const detail = await safeDetail(response);
      throw new TrackerError(
        `${where}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
        response.status,
        PERSON_MUST_FIX.has(response.status),
      );
    }
  }

  private backoff(attempt: number): number {
    return this.baseDelayMs * 2 ** attempt;
  }

  private retryAfter(response: Response, attempt: number): number {
    const seconds = Number(response.headers.get('retry-after'));
    return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 60_000) : this.backoff(attempt);
  }
}

async function safeDetail(response: Response): Promise<string> {
  // Server error bodies are shown briefly: they explain 4xx answers, and never hold our token.
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim();
  return text.slice(0, 200);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
