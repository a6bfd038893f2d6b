/** The delivery's body is not what the sender's schema promises: 400, nothing happens. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}
