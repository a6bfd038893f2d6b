// HMAC-SHA256 signatures over the exact request body bytes, compared in constant time.
import crypto from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * True when `signature` (lower-case hex, optionally prefixed `sha256=`) is the HMAC-SHA256 of
 * `body` under `secret`. Missing, empty or malformed signatures are false, never an exception.
 */
export function verifySignature(secret: string, body: Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  const hex = signature.startsWith('sha256=') ? signature.slice('sha256='.length) : signature;
  if (!HEX_SHA256.test(hex)) return false;
  const expected = crypto.createHmac('sha256', secret).update(body).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** The deduplication key of a delivery: senders re-send the same body under new delivery ids. */
export function deliveryKey(source: string, body: Buffer): string {
  return `${source}:${crypto.createHash('sha256').update(body).digest('hex')}`;
}
