// Mapping a delivery to an action, bounded in time, and what a failed mapping means. The request
// path and the forwarder (which maps deliveries journalled unresolved) read the same verdicts.
import { ConfigError } from '../../config';
import { InvalidIdError } from '../../domain';
import { TrackerError } from '../../tracker/http';
import type { WebhookAction } from './actions';
import { PayloadError } from './errors';

/** The tracker did not answer within the request's deadline; the forwarder asks again later. */
export class TrackerTooSlowError extends Error {
  override readonly name = 'TrackerTooSlowError';
}

export type MappingFailure =
  /** The delivery itself is wrong: 400, nothing journalled. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** The tracker does not know the item (deleted, or not visible to the key): nothing to do. */
  | { readonly kind: 'unknown-item'; readonly reason: string }
  /** Our configuration disagrees with the tracker: a dead letter until a person fixes it. */
  | { readonly kind: 'config'; readonly reason: string }
  /** The tracker could not be asked now: journalled unresolved, mapped again later. */
  | { readonly kind: 'tracker-unavailable'; readonly reason: string };

/** What a mapping error means, or undefined for an error that is ours (a bug: 500 / retried). */
export function mappingFailure(err: unknown): MappingFailure | undefined {
  if (err instanceof PayloadError || err instanceof InvalidIdError) return { kind: 'invalid', reason: err.message };
  if (err instanceof TrackerError && err.status === 404)
    return {
      kind: 'unknown-item',
      reason: 'the tracker does not know this work item (deleted, or not visible to the API key)',
    };
  if (err instanceof ConfigError) return { kind: 'config', reason: `configuration problem: ${err.message}` };
  if (err instanceof TrackerError || err instanceof TrackerTooSlowError)
    return { kind: 'tracker-unavailable', reason: err.message };
  return undefined;
}

/**
 * Maps within `deadlineMs`. The tracker look-up is not cancelled when the deadline passes: it
 * finishes in the background and fills the directory's cache for the forwarder's next try.
 */
export async function mapWithin(
  deadlineMs: number,
  map: () => Promise<WebhookAction> | WebhookAction,
): Promise<WebhookAction> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TrackerTooSlowError(`the tracker did not answer within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  const mapping = Promise.resolve().then(map);
  mapping.catch(() => undefined); // a late failure is the forwarder's business, not an unhandled rejection
  try {
    return await Promise.race([mapping, late]);
  } finally {
    clearTimeout(timer);
  }
}
