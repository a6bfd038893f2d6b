// The signed Gitea and Plane deliveries in test/fixtures/webhooks (exact body bytes + headers),
// and the configuration of the world they describe (see that folder's README.md).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';

const DIR = path.resolve(__dirname, '../fixtures/webhooks');

export { GITEA_WEBHOOK_SECRET as GITEA_SECRET, PLANE_WEBHOOK_SECRET as PLANE_SECRET } from './test-secrets';
import {
  GITEA_WEBHOOK_SECRET as GITEA_SECRET,
  PLANE_API_KEY,
  PLANE_WEBHOOK_SECRET as PLANE_SECRET,
} from './test-secrets';

export const WORLD = {
  planeProjectId: '4e8bcacf-333f-4718-ba69-1fc992453b7b',
  workItemId: 'ddbb63a0-4448-4c32-94a1-da60ede27fa0',
  todoStateId: '024a4924-eb78-4025-9c42-9059fb3db79a',
  cancelledStateId: 'adb9556d-0162-4b1f-b536-582b1f92b5fb',
  startedStateId: '23b5b2cf-b20d-4ba9-9025-ea14193a29c8',
  doneStateId: '621cab65-1115-477f-9d12-7d69c5dffc80',
  backlogStateId: '9b2f6a41-3c0d-4e8a-b7f5-2d61c0e4a9b3',
  priya: 'ae9cef9c-bc13-4cce-b552-1dd19a6d2fb4',
  planeBot: 'e98dd942-1e23-4050-9c09-daa6597cc9d0',
} as const;

/** The Plane of the fixtures (project SHOP with its default states), for fakePlane(). */
export function fixturePlaneWorld(items: { id: string; sequence_id: number; name: string; state: string }[]) {
  return {
    apiKey: PLANE_API_KEY,
    workspace: 'acme',
    projects: {
      [WORLD.planeProjectId]: {
        identifier: 'SHOP',
        states: [
          { id: WORLD.backlogStateId, name: 'Backlog', group: 'backlog' },
          { id: WORLD.todoStateId, name: 'Todo', group: 'unstarted' },
          { id: WORLD.startedStateId, name: 'In Progress', group: 'started' },
          { id: WORLD.doneStateId, name: 'Done', group: 'completed' },
          { id: WORLD.cancelledStateId, name: 'Cancelled', group: 'cancelled' },
        ],
        items,
      },
    },
  };
}

export interface Delivery {
  readonly name: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export function delivery(name: string): Delivery {
  return {
    name,
    body: fs.readFileSync(path.join(DIR, `${name}.json`)),
    headers: JSON.parse(fs.readFileSync(path.join(DIR, `${name}.headers.json`), 'utf8')),
  };
}

export const FIXTURE_NAMES = [
  'gitea-push',
  'gitea-pull_request-opened',
  'gitea-pull_request_review-rejected',
  'plane-issue-created',
  'plane-issue_comment-created',
] as const;

/** A new delivery built like the senders do: the body signed with the source's secret. */
export function signed(source: 'plane' | 'gitea', payload: unknown, headers: Record<string, string>): Delivery {
  const body = Buffer.from(JSON.stringify(payload));
  const hex = crypto
    .createHmac('sha256', source === 'plane' ? PLANE_SECRET : GITEA_SECRET)
    .update(body)
    .digest('hex');
  const signature: Record<string, string> = { [source === 'plane' ? 'X-Plane-Signature' : 'X-Gitea-Signature']: hex };
  return { name: 'built', body, headers: { 'Content-Type': 'application/json', ...headers, ...signature } };
}

export function fixtureProjectsYaml(): string {
  return `
projects:
  shop:
    ticketPrefix: SHOP
    repository: /srv/git/shop.git
    plane:
      projectId: ${WORLD.planeProjectId}
      triggerState: ${WORLD.todoStateId}
      operators: [${WORLD.priya}]
    gitea:
      repository: acme/shop
      operators: [MKowalska]
`;
}

/**
 * A comment on the item's pull request as Gitea sends it (X-Gitea-Event issue_comment, event type
 * pull_request_comment), built from the review fixture's repository and pull request.
 */
export function giteaPullRequestComment(body: string, login: string, action = 'created'): Delivery {
  const review = JSON.parse(delivery('gitea-pull_request_review-rejected').body.toString('utf8'));
  const pr = review.pull_request;
  const payload = {
    action,
    issue: { id: 917, number: pr.number, title: pr.title, state: 'open', user: pr.user },
    pull_request: pr,
    comment: { id: Math.floor(Math.random() * 1e9), body, user: { ...review.sender, login } },
    repository: review.repository,
    sender: { ...review.sender, login },
    is_pull: true,
  };
  return signed('gitea', payload, {
    'X-Gitea-Event': 'issue_comment',
    'X-Gitea-Event-Type': 'pull_request_comment',
    'X-Gitea-Delivery': crypto.randomUUID(),
  });
}

export function fixtureConfig(env: Record<string, string> = {}): AppConfig {
  return {
    temporal: loadTemporalSettings({}),
    env: loadEnv({
      ORCH_PLANE_WEBHOOK_SECRET: PLANE_SECRET,
      ORCH_GITEA_WEBHOOK_SECRET: GITEA_SECRET,
      ORCH_PLANE_BOT_USER_ID: WORLD.planeBot,
      ORCH_GITEA_BOT_LOGIN: 'orchestrator',
      ORCH_ACTIVITY_RETRY_INITIAL_MS: '10',
      ...env,
    }),
    projectsFile: 'fixture-projects.yaml',
    projects: parseProjects(fixtureProjectsYaml(), 'fixture-projects.yaml').projects,
    dataDir: '/nonexistent',
  };
}
