// A Plane world of several projects for the intake tests: configuration, the fake Plane's
// contents, and signed deliveries built like Plane sends them (from the recorded fixtures).
import crypto from 'node:crypto';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import { deliveryKey } from '../../src/api/webhooks/signature';
import type { FakePlaneOptions } from './fake-trackers';
import { PLANE_API_KEY } from './test-secrets';
import { GITEA_SECRET, PLANE_SECRET, WORLD, delivery, signed, type Delivery } from './webhook-fixtures';

export interface IntakeItem {
  readonly project: string;
  readonly planeProjectId: string;
  readonly id: string;
  readonly sequence: number;
  readonly ticket: string;
  readonly workflowId: string;
}

export interface IntakeWorld {
  readonly projects: readonly { key: string; prefix: string; planeProjectId: string }[];
  readonly items: readonly IntakeItem[];
  readonly projectsYaml: string;
  plane(): FakePlaneOptions;
}

/** `projects` projects (keys and prefixes given) with `perProject` work items each, numbered from `first`. */
export function intakeWorld(
  projects: readonly [key: string, prefix: string][],
  perProject: number,
  first = 1,
): IntakeWorld {
  const ps = projects.map(([key, prefix]) => ({ key, prefix, planeProjectId: crypto.randomUUID() }));
  const items = ps.flatMap((p) =>
    Array.from({ length: perProject }, (_, i) => ({
      project: p.key,
      planeProjectId: p.planeProjectId,
      id: crypto.randomUUID(),
      sequence: first + i,
      ticket: `${p.prefix}-${first + i}`,
      workflowId: `work-item/${p.key}/${p.prefix}-${first + i}`,
    })),
  );
  const projectsYaml = `projects:\n${ps
    .map(
      (p) =>
        `  ${p.key}:\n    ticketPrefix: ${p.prefix}\n    repository: /srv/git/${p.key}.git\n    plane:\n      projectId: ${p.planeProjectId}\n      triggerState: ${WORLD.todoStateId}\n      operators: [${WORLD.priya}]\n`,
    )
    .join('')}`;
  return {
    projects: ps,
    items,
    projectsYaml,
    plane: () => ({
      apiKey: PLANE_API_KEY,
      workspace: 'acme',
      projects: Object.fromEntries(
        ps.map((p) => [
          p.planeProjectId,
          {
            identifier: p.prefix,
            states: [{ id: WORLD.todoStateId, name: 'Todo', group: 'unstarted' }],
            items: items
              .filter((i) => i.project === p.key)
              .map((i) => ({ id: i.id, sequence_id: i.sequence, name: `Item ${i.ticket}`, state: WORLD.todoStateId })),
          },
        ]),
      ),
    }),
  };
}

export function intakeConfig(world: IntakeWorld, env: Record<string, string>): AppConfig {
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({
      ORCH_PLANE_WEBHOOK_SECRET: PLANE_SECRET,
      ORCH_GITEA_WEBHOOK_SECRET: GITEA_SECRET,
      ORCH_PLANE_BOT_USER_ID: WORLD.planeBot,
      ...env,
    }),
    projectsFile: 'intake-projects.yaml',
    projects: parseProjects(world.projectsYaml, 'intake-projects.yaml').projects,
    dataDir: '/nonexistent',
  };
}

export interface BuiltDelivery extends Delivery {
  /** The dedup key the API derives from the body: the event key (or update id) in the workflow. */
  readonly key: string;
}

const fixtureBody = (name: string): Record<string, unknown> => JSON.parse(delivery(name).body.toString('utf8'));

/** Plane's "work item created" for `item`, in the trigger state. */
export function planeCreated(item: IntakeItem): BuiltDelivery {
  const p = fixtureBody('plane-issue-created');
  const data = p.data as Record<string, unknown>;
  Object.assign(data, {
    id: item.id,
    project: item.planeProjectId,
    sequence_id: item.sequence,
    name: `Item ${item.ticket}`,
    state: { id: WORLD.todoStateId, name: 'Todo', group: 'unstarted' },
  });
  return withKey(signed('plane', p, { 'X-Plane-Event': 'issue', 'X-Plane-Delivery': crypto.randomUUID() }));
}

/** A comment on `item` by Priya (an operator): plain text, or a command such as `/top-up 1 why`. */
export function planeComment(item: IntakeItem, text: string): BuiltDelivery {
  const p = fixtureBody('plane-issue_comment-created');
  const data = p.data as Record<string, unknown>;
  Object.assign(data, {
    id: crypto.randomUUID(),
    issue: item.id,
    project: item.planeProjectId,
    comment_html: `<p>${text}</p>`,
  });
  return withKey(signed('plane', p, { 'X-Plane-Event': 'issue_comment', 'X-Plane-Delivery': crypto.randomUUID() }));
}

/** The same body again under a new delivery id, as Plane's retries send it. */
export function redelivered(d: BuiltDelivery): BuiltDelivery {
  const id = d.headers['X-Plane-Delivery'] !== undefined ? 'X-Plane-Delivery' : 'X-Gitea-Delivery';
  return { ...d, headers: { ...d.headers, [id]: crypto.randomUUID() } };
}

function withKey(d: Delivery): BuiltDelivery {
  return { ...d, key: deliveryKey('plane', d.body) };
}

/** Posts a delivery; answers its status and JSON body. */
export async function postDelivery(
  url: string,
  d: Delivery,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/webhooks/plane`, { method: 'POST', headers: d.headers, body: d.body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}
