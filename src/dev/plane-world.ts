// A project wired to Plane, with a stand-in for the one Plane look-up a "work item created"
// delivery needs (the project's identifier) and signed deliveries of such events: for the bench
// and the tests that drive the API process from outside, as Plane would.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PlaneWorld {
  /** The webhook secret (also the stand-in's API key). */
  readonly secret: string;
  /** projects.yaml for the project. */
  readonly projectsYaml: string;
  /** Starts the stand-in Plane API on loopback. */
  plane(): Promise<{ url: string; close(): Promise<void> }>;
  /** The body of a "work item created" delivery for ticket number `n`, in the trigger state. */
  created(n: number, title?: string): Buffer;
  /** The signature header of a body. */
  sign(body: Buffer): string;
}

export function planeWorld(project: { readonly key: string; readonly prefix: string }): PlaneWorld {
  const secret = crypto.randomBytes(24).toString('hex');
  const planeProjectId = crypto.randomUUID();
  const triggerState = crypto.randomUUID();
  return {
    secret,
    projectsYaml: `projects:\n  ${project.key}:\n    ticketPrefix: ${project.prefix}\n    repository: /nonexistent\n    plane:\n      projectId: ${planeProjectId}\n      triggerState: ${triggerState}\n`,
    async plane() {
      const server = http.createServer((req, res) => {
        res.writeHead(req.url?.endsWith(`/projects/${planeProjectId}/`) ? 200 : 404, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ id: planeProjectId, identifier: project.prefix }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      };
    },
    created: (n, title = `Item ${n}`) =>
      Buffer.from(
        JSON.stringify({
          event: 'issue',
          action: 'created',
          data: {
            id: crypto.randomUUID(),
            project: planeProjectId,
            sequence_id: n,
            name: title,
            description_stripped: 'A work item made by the Plane stand-in.',
            state: { id: triggerState, name: 'Todo', group: 'unstarted' },
            labels: [],
          },
          activity: { field: null, actor: { id: crypto.randomUUID(), display_name: 'stand-in' } },
        }),
      ),
    sign: (body) => crypto.createHmac('sha256', secret).update(body).digest('hex'),
  };
}
