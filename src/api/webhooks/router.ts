// POST /webhooks/:source. Order of checks: size (413), signature over the raw bytes (401),
// content type (415), JSON (400), schema (400), mapping; then the signal, answered with 202 once
// Temporal accepted it, or 503 when Temporal cannot be reached. Bad input never touches a workflow.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Client } from '@temporalio/client';
import { ConfigError, type AppConfig } from '../../config';
import { TrackerError } from '../../tracker/http';
import type { Logger } from '../../util/logger';
import type { ApiMetrics } from '../metrics';
import type { WebhookAction } from './actions';
import { dispatch } from './dispatch';
import { PayloadError } from './errors';
import { deliveryKey, verifySignature } from './signature';
import { InvalidIdError } from '../../domain';

/** Delivery ids are the sender's choice: this much of one is logged. */
const MAX_LOGGED_ID = 100;
/** Real deliveries nest a few levels; a deeper body is refused before it is parsed. */
const MAX_NESTING = 64;

/** The deepest nesting of objects and arrays in a JSON text (strings skipped), without parsing it. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

export interface WebhookSource {
  readonly secret?: string;
  signature(req: Request): string | undefined;
  eventType(req: Request): string;
  deliveryId(req: Request): string | undefined;
  map(eventType: string, payload: unknown): Promise<WebhookAction> | WebhookAction;
}

export interface WebhookRouterDeps {
  readonly client: Client;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly sources: Readonly<Record<string, WebhookSource>>;
}

export function createWebhookRouter(deps: WebhookRouterDeps): Router {
  const router = express.Router();
  const rawBody = express.raw({ type: () => true, limit: deps.config.env.ORCH_WEBHOOK_MAX_BYTES });

  router.post('/:source', rawBody, async (req: Request, res: Response) => {
    const sourceName = String(req.params.source);
    // An own property only: `constructor` or `__proto__` is no source.
    const source = Object.hasOwn(deps.sources, sourceName) ? deps.sources[sourceName] : undefined;
    if (!source) {
      res.status(404).json({ error: `unknown webhook source ${JSON.stringify(sourceName.slice(0, 40))}` });
      return;
    }
    const stopTimer = deps.metrics.duration.startTimer({ source: sourceName });
    let event = 'unknown';
    // The sender chooses the delivery id: what is logged of it is capped.
    const log = deps.logger.child({ source: sourceName, delivery: source.deliveryId(req)?.slice(0, MAX_LOGGED_ID) });
    const answer = (status: number, outcome: string, body: Record<string, unknown>): void => {
      deps.metrics.deliveries.inc({ source: sourceName, event, outcome });
      stopTimer();
      log.info('webhook delivery', { event, status, outcome, reason: body.reason ?? body.error });
      res.status(status).json({ outcome, ...body });
    };

    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!source.secret)
      return answer(401, 'unauthorized', { error: `no webhook secret is configured for ${sourceName}` });
    if (!verifySignature(source.secret, body, source.signature(req)))
      return answer(401, 'unauthorized', { error: 'missing or invalid signature' });
    event = source.eventType(req) || 'unknown';
    if (!req.is('application/json'))
      return answer(415, 'unsupported', { error: 'content type must be application/json' });

    const text = body.toString('utf8');
    if (nestingDepth(text) > MAX_NESTING)
      return answer(400, 'malformed', { error: `JSON nested deeper than ${MAX_NESTING} levels` });
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (err) {
      return answer(400, 'malformed', { error: `malformed JSON: ${(err as Error).message.slice(0, 200)}` });
    }
    let action: WebhookAction;
    try {
      action = await source.map(event, payload);
    } catch (err) {
      if (err instanceof PayloadError || err instanceof InvalidIdError)
        return answer(400, 'invalid', { error: err.message });
      if (err instanceof TrackerError && err.status === 404) {
        return answer(202, 'ignored', {
          reason: 'the tracker does not know this work item (deleted, or not visible to the API key)',
        });
      }
      if (err instanceof ConfigError) {
        log.error('webhook mapping hit a configuration problem', { err });
        return answer(202, 'ignored', { reason: `configuration problem: ${err.message}` });
      }
      if (err instanceof TrackerError) {
        log.error('tracker look-up failed while mapping a webhook', { err });
        return answer(503, 'unavailable', {
          error: 'the tracker API could not be reached; the catch-up job will reconcile',
        });
      }
      throw err;
    }
    const result = await dispatch(deps.client, deps.config, action, deliveryKey(sourceName, body));
    if (result.outcome === 'unavailable') {
      log.error('Temporal unreachable; delivery not accepted', { event });
      return answer(503, 'unavailable', { error: result.reason });
    }
    return answer(202, result.outcome, { ...result });
  });

  // Errors from reading the body (too large, aborted, bad encoding) are the sender's: never 5xx.
  router.use(
    (err: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      if (err.type === 'entity.too.large') {
        res
          .status(413)
          .json({ outcome: 'too-large', error: `body larger than ${deps.config.env.ORCH_WEBHOOK_MAX_BYTES} bytes` });
        return;
      }
      if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
        res.status(err.status).json({ outcome: 'bad-request', error: err.message ?? 'bad request' });
        return;
      }
      next(err);
    },
  );
  return router;
}
