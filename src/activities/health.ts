// Probing a service's health URL: 2xx is healthy; anything else, or no answer within the
// timeout, is not, with a detail saying what was seen. waitHealthy polls until healthy.
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
    const cause =
      (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    return { at, ok: false, detail: `no answer from ${url} (${cause})` };
  }
}

/** Polls until a 2xx answer or the deadline; the detail says what was seen last. */
export async function waitHealthy(
  url: string,
  timeoutMs: number,
  intervalMs: number,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = Date.now() + timeoutMs;
  for (let probes = 1; ; probes++) {
    const probe = await probeHealth(url, Math.min(intervalMs * 5, 10_000));
    if (probe.ok) return { ok: true, detail: `${probe.detail} after ${probes} probe(s)` };
    const last = probe.detail.replace(` from ${url}`, '');
    if (Date.now() + intervalMs > deadline)
      return { ok: false, detail: `not healthy within ${timeoutMs} ms at ${url} (last: ${last})` };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
