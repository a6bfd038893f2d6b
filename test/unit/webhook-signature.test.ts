import { deliveryKey, verifySignature } from '../../src/api/webhooks/signature';
import { FIXTURE_NAMES, GITEA_SECRET, PLANE_SECRET, delivery } from '../support/webhook-fixtures';

const secretAndHeader = (name: string): [string, string] =>
  name.startsWith('gitea') ? [GITEA_SECRET, 'X-Gitea-Signature'] : [PLANE_SECRET, 'X-Plane-Signature'];

describe('webhook signatures', () => {
  test.each(FIXTURE_NAMES)('%s verifies over its exact bytes', (name) => {
    const d = delivery(name);
    const [secret, header] = secretAndHeader(name);
    expect(verifySignature(secret, d.body, d.headers[header])).toBe(true);
  });

  test('Gitea X-Hub-Signature-256 (sha256= prefix) verifies too', () => {
    const d = delivery('gitea-push');
    expect(verifySignature(GITEA_SECRET, d.body, d.headers['X-Hub-Signature-256'])).toBe(true);
  });

  test.each(FIXTURE_NAMES)('%s fails when tampered, re-serialized, or checked with the wrong secret', (name) => {
    const d = delivery(name);
    const [secret, header] = secretAndHeader(name);
    const signature = d.headers[header];
    const tampered = Buffer.from(d.body);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
    expect(verifySignature(secret, tampered, signature)).toBe(false);
    expect(verifySignature(secret, Buffer.from(JSON.stringify(JSON.parse(d.body.toString('utf8')))), signature)).toBe(
      false,
    );
    expect(verifySignature(`${secret}x`, d.body, signature)).toBe(false);
    expect(verifySignature(name.startsWith('gitea') ? PLANE_SECRET : GITEA_SECRET, d.body, signature)).toBe(false);
  });

  test.each([undefined, '', 'sha256=', 'zz', 'a'.repeat(63), 'g'.repeat(64), `${'a'.repeat(64)}00`])(
    'rejects signature %j',
    (signature) => {
      expect(verifySignature(GITEA_SECRET, delivery('gitea-push').body, signature)).toBe(false);
    },
  );

  test('the dedup key depends on source and body only', () => {
    const body = delivery('plane-issue-created').body;
    expect(deliveryKey('plane', body)).toBe(deliveryKey('plane', Buffer.from(body)));
    expect(deliveryKey('plane', body)).not.toBe(deliveryKey('gitea', body));
    expect(deliveryKey('plane', body)).toMatch(/^plane:[0-9a-f]{64}$/);
  });
});
