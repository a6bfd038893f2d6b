// Structured logging: one JSON object per line. Any field whose name looks like a credential is
// replaced before the line is written, so a secret passed by mistake never reaches the log.
import { redactUrls } from './redact-urls';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|token|password|passwd|api[-_]?key|authorization|signature|cookie/i;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value, depth);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** Lines of an error's stack that are logged: enough to find the place, not a page. */
const STACK_LINES = 12;

/**
 * An error keeps what finds its cause: name, message, code, its stack (cut, URLs without
 * credentials) and its cause, redacted the same way at every depth.
 */
function redactError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactUrls(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (error.stack)
    out.stack = redactUrls(
      error.stack
        .split('\n')
        .slice(1, STACK_LINES + 1)
        .map((l) => l.trim())
        .join('\n'),
    );
  if (error.cause !== undefined) out.cause = redact(error.cause, depth + 1);
  return out;
}

export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = options.base ?? {};
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < threshold) return;
    const record = redact({ ...base, ...fields }) as Record<string, unknown>;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...record }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}
