// The CI loop end to end (ADR-0025): the real runAgent activity runs the real Claude Code CLI
// against the scripted model in a real checkout with a bare origin; a CI stand-in watches the
// item's pushed head and reports on it as Gitea does, through the API with signed deliveries.
// CI fails the developer's first push; the developer's next run is handed CI's words verbatim
// and pushes a fix; CI passes it, and the tester's push, and the item goes on through the merge.
import { execFileSync } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { cancelUpdate } from '../../src/workflows/messages';
import { AGENT_TIMEOUTS, startAgentRig, type AgentRig } from '../support/agent-harness';
import { NO_PLANE, startTestApi, type TestApi } from '../support/api-harness';
import { startTemporal } from '../support/temporal';
import { GITEA_SECRET, signed } from '../support/webhook-fixtures';
import { startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let rig: AgentRig;
let api: TestApi;
const queue = taskQueue('ci-loop');
const CI = { requiredContexts: ['ci/test'], timeoutMs: 120_000 };
const FAILURE = 'coupon.test.js: an expired coupon was accepted';
const TARGET = 'https://ci.acme.dev/repos/shop/pipeline/41';

beforeAll(async () => {
  env = await startTemporal();
  rig = await startAgentRig(
    {},
    {
      projectYaml: `    gitea:\n      repository: acme/shop\n    ci:\n      requiredContexts: [ci/test]\n`,
      taskQueue: queue,
      env: { ORCH_GITEA_WEBHOOK_SECRET: GITEA_SECRET },
    },
  );
  api = await startTestApi({ client: env.client, config: rig.config, planeDirectory: NO_PLANE });
});
afterAll(async () => {
  await api?.close();
  await rig?.close();
  await env?.teardown();
});

/** Reports on every new head the item pushes: the first fails, the rest pass. */
function ciStandIn(handle: Awaited<ReturnType<typeof startItem>>): { reported: string[]; stop(): void } {
  const reported: string[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const state = await handle.query<{ headSha?: string; stage: string }>('state').catch(() => undefined);
      const head = state?.headSha;
      // Every agent pushes; CI is only asked about what development and later stages pushed.
      if (head && !reported.includes(head) && ['development', 'review', 'testing'].includes(state.stage)) {
        // The first report is on the developer's first push; until then the head may still be
        // the architect's (the stage changes before the developer pushes).
        const byDeveloper = execFileSync(
          'git',
          ['--git-dir', rig.repo.origin, 'show', '--name-only', '--format=', head],
          {
            encoding: 'utf8',
          },
        ).includes('src/coupon.js');
        if (reported.length === 0 && !byDeveloper) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const first = reported.length === 0;
        const payload = {
          id: reported.length + 1,
          sha: head,
          context: 'ci/test',
          state: first ? 'failure' : 'success',
          description: first ? FAILURE : 'all tests passed',
          target_url: TARGET,
          branches: [],
          repository: { id: 3, name: 'shop', full_name: 'acme/shop' },
          sender: { id: 9, login: 'ci-bot' },
        };
        const delivery = signed('gitea', payload, {
          'X-Gitea-Event': 'status',
          'X-Gitea-Event-Type': 'status',
          'X-Gitea-Delivery': crypto.randomUUID(),
        });
        const answer = await fetch(`${api.url}/webhooks/gitea`, {
          method: 'POST',
          headers: delivery.headers,
          body: delivery.body,
        }).then((r) => r.json() as Promise<{ outcome: string }>);
        // Visibility may not know the head yet: report again on the next round.
        if (answer.outcome === 'signalled') reported.push(head);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return { reported, stop: () => void (running = false) };
}

test("CI fails the developer's push; the next run gets CI's words and pushes a fix; CI passes; the item goes on", async () => {
  const input = testInput({ timeouts: AGENT_TIMEOUTS, ci: CI });
  await withWorker(env, queue, createActivities(rig.config, { client: env.client }), async () => {
    const handle = await startItem(env, queue, input);
    const ci = ciStandIn(handle);
    try {
      const state = await waitForState(handle, (s) => s.stage === 'deploy-staging' || s.status !== 'active', 240_000);
      const first = ci.reported[0]!;
      expect(state.gateResults.filter((g) => g.gate === 'ci').map((g) => `${g.stage} ${g.verdict}`)).toEqual([
        'development FAIL',
        'development PASS',
      ]);
      expect(state.gateResults.find((g) => g.gate === 'ci')?.findings).toEqual([
        `CI context "ci/test" reported failure on ${first}: ${FAILURE} (${TARGET})`,
      ]);
      // The developer's second run was told, verbatim, in its prompt.
      expect(
        rig.model.requests.some((r) =>
          r.userText.includes(`CI context "ci/test" reported failure on ${first}: ${FAILURE} (${TARGET})`),
        ),
      ).toBe(true);
      // The fix is a new head, the tester's push another; CI passed both before the merge.
      expect(ci.reported.length).toBeGreaterThanOrEqual(3);
      expect(new Set(ci.reported).size).toBe(ci.reported.length);
      expect(state.gateResults.find((g) => g.gate === 'merge')?.verdict).toBe('PASS');
      expect(state.history.map((v) => v.stage).slice(0, 6)).toEqual([
        'created',
        'analysis',
        'architecture',
        'development',
        'development',
        'review',
      ]);
    } finally {
      ci.stop();
      await handle
        .executeUpdate(cancelUpdate, { args: [{ by: 'test', reason: 'done testing' }] })
        .catch(() => undefined);
    }
  });
});
