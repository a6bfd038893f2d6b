// POST /webhooks/:source. Order of checks: size (413), signature over the raw bytes (401),
// content type (415), JSON (400), schema (400), mapping (the tracker asked within a short
// deadline); then the delivery is written to the intake journal and answered 202. Bad input is
// never journalled and never touches a workflow. The answer waits briefly for the forwarder, to
// say what happened; past that it is `queued` (ADR-0016). Every answer comes within 1 s.
import { SpanKind } from '@opentelemetry/api';
import { orchestratorTracer } from '../../telemetry/tracing';
import { serializeTraceContext } from '../../telemetry/trace-context';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AppConfig } from '../../config';
import { JournalFullError, type AppendResult } from '../../intake/journal';
import type { Logger } from '../../util/logger';
import type { Intake } from '../intake';
import type { ApiMetrics } from '../metrics';
import type { WebhookAction } from './actions';
import { mapWithin, mappingFailure, type MappingFailure } from './mapping';
import { journalledAnswer } from './journalled-answer';
import { deliveryKey, verifySignature } from './signature';

/** What an answer may take at most, whatever happens behind it. */
const ANSWER_BUDGET_MS = 800;
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
  /** The work item a delivery belongs to, known without the tracker (deliveries of one are kept in order). */
  lane?(eventType: string, payload: unknown): string | undefined;
}

export interface WebhookRouterDeps {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly intake: Intake;
}

/** The lane of a mapped action: its work item. */
function actionLane(action: Exclude<WebhookAction, { kind: 'ignore' }>): string {
  return `item:${action.project}/${action.kind === 'start' ? action.info.ticket : action.ticket}`;
}

export function createWebhookRouter(deps: WebhookRouterDeps): Router {
  const router = express.Router();
  const rawBody = express.raw({ type: () => true, limit: deps.config.env.ORCH_WEBHOOK_MAX_BYTES });
  const { appends, forwarder, sources } = deps.intake;
  const env = deps.config.env;

  router.post('/:source', rawBody, async (req: Request, res: Response) => {
    const receivedAt = Date.now();
    const sourceName = String(req.params.source);
    // An own property only: `constructor` or `__proto__` is no source.
    const source = Object.hasOwn(sources, sourceName) ? sources[sourceName] : undefined;
    if (!source) {
      res.status(404).json({ error: `unknown webhook source ${JSON.stringify(sourceName.slice(0, 40))}` });
      return;
    }
    const stopTimer = deps.metrics.duration.startTimer({ source: sourceName });
    // The delivery's trace starts here; its context is journalled with it (forwarded later).
    const span = orchestratorTracer().startSpan(`webhook ${sourceName}`, { kind: SpanKind.SERVER });
    let event = 'unknown';
    // The sender chooses the delivery id: what is logged (and journalled) of it is capped.
    const deliveryId = source.deliveryId(req)?.slice(0, MAX_LOGGED_ID);
    const log = deps.logger.child({ source: sourceName, delivery: deliveryId });
    const answer = (status: number, outcome: string, body: Record<string, unknown>): void => {
      deps.metrics.deliveries.inc({ source: sourceName, event, outcome });
      stopTimer();
      log.info('webhook delivery', { event, status, outcome, entry: body.entry, reason: body.reason ?? body.error });
      span.setAttributes({ 'webhook.event': event, 'webhook.outcome': outcome, 'http.response.status_code': status });
      span.end();
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
    let action: WebhookAction | undefined;
    let failure: MappingFailure | undefined;
    try {
      action = await mapWithin(env.ORCH_INTAKE_RESOLVE_MS, () => source.map(event, payload));
    } catch (err) {
      failure = mappingFailure(err);
      if (!failure) throw err;
    }
    if (failure?.kind === 'invalid') return answer(400, 'invalid', { error: failure.reason });
    if (failure?.kind === 'unknown-item') return answer(202, 'ignored', { reason: failure.reason });
    if (action?.kind === 'ignore') return answer(202, 'ignored', { reason: action.reason });
    if (failure?.kind === 'config')
      log.error('webhook mapping hit a configuration problem', { reason: failure.reason });
    if (failure?.kind === 'tracker-unavailable')
      log.warn('tracker slow or unreachable; delivery journalled unresolved', { reason: failure.reason });

    const key = deliveryKey(sourceName, body);
    let appended: AppendResult;
    try {
      appended = await appends.append({
        key,
        lane: source.lane?.(event, payload) ?? (action ? actionLane(action) : `delivery:${key}`),
        source: sourceName,
        event,
        deliveryId,
        payload: text,
        action: action ? JSON.stringify(action) : undefined,
        deadReason: failure?.kind === 'config' ? failure.reason : undefined,
        traceContext: serializeTraceContext(span),
      });
    } catch (err) {
      if (err instanceof JournalFullError) {
        log.error('intake journal full; delivery refused', { reason: err.message });
        return answer(503, 'unavailable', { error: `${err.message}; the delivery was not accepted` });
      }
      log.error('intake journal write failed; delivery refused', { err });
      deps.metrics.serverErrors.inc({ route: '/webhooks/:source' });
      return answer(503, 'unavailable', { error: 'the intake journal could not record the delivery' });
    }
    // Wait a little for Temporal to take it, within the answer's budget.
    const waitMs = Math.min(env.ORCH_INTAKE_ANSWER_WAIT_MS, ANSWER_BUDGET_MS - (Date.now() - receivedAt));
    const reply = await journalledAnswer(forwarder, appended, waitMs, action !== undefined);
    return answer(202, reply.outcome, reply.body);
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
