import { redactUrls } from '../../src/activities/git/repository';
import { createLogger, redact } from '../../src/util/logger';

describe('structured logger', () => {
  test('writes one JSON object per line and redacts credential-looking fields at any depth', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), base: { component: 'api' } });
    log.info('delivery accepted', {
      source: 'plane',
      headers: { 'x-plane-signature': 'abc', authorization: 'token xyz' },
      webhookSecret: 's3cr3t',
    });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({
      level: 'info',
      msg: 'delivery accepted',
      component: 'api',
      source: 'plane',
      webhookSecret: '[redacted]',
    });
    expect(record.headers).toEqual({ 'x-plane-signature': '[redacted]', authorization: '[redacted]' });
    expect(lines[0]).not.toContain('s3cr3t');
    expect(lines[0]).not.toContain('xyz');
  });

  test('honours the level threshold', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.warn('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  test('errors keep name, message, code, a cut stack and their cause, without credentials in URLs', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED https://bot:tok3n@gitea.local/x'), {
      code: 'ECONNREFUSED',
    });
    const err = new TypeError('boom', { cause: root });
    const out = redact({ err }) as { err: Record<string, unknown> & { cause: Record<string, unknown> } };
    expect(out.err).toMatchObject({
      name: 'TypeError',
      message: 'boom',
      stack: expect.stringMatching(/^at .*logger\.test\.ts/),
    });
    expect(String(out.err.stack).split('\n').length).toBeLessThanOrEqual(12);
    expect(out.err.cause).toMatchObject({
      name: 'Error',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED https://***@gitea.local/x',
    });
    expect(JSON.stringify(out)).not.toContain('tok3n');
  });
});

describe('git error messages', () => {
  test('credentials in repository URLs are never repeated', () => {
    expect(
      redactUrls("fatal: repository 'https://orchestrator:glpat-abc123@gitea.acme.dev/acme/shop.git/' not found"),
    ).toBe("fatal: repository 'https://***@gitea.acme.dev/acme/shop.git/' not found");
    expect(redactUrls('ssh://git@host/x and /srv/git/shop.git')).toBe('ssh://***@host/x and /srv/git/shop.git');
  });
});
