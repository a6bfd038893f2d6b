// One probe of a service's health URL: 2xx is healthy; anything else, or no answer within the
// timeout, is not, with a detail saying what was seen.
export interface Probe {
  readonly at: string;
  readonly ok: boolean;
  readonly detail: string;
}

export async function probeHealth(url: string, timeoutMs: number): Promise<Probe> {
  const at = new Date().toISOString();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { at, ok: response.status >= 200 && response.status < 300, detail: `HTTP ${response.status} from ${url}` };
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    return { at, ok: false, detail: `no answer from ${url} (${cause})` };
  }
}
