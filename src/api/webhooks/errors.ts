import type { z } from 'zod';

/** The delivery's body is not what the sender's schema promises: 400, nothing happens. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

/** Parses with the sender's schema; the error names the first field that does not fit. */
export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new PayloadError(`invalid ${what} payload: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return result.data;
}
