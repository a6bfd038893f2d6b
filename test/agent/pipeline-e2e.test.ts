// End to end on the real dev server: the real runAgent activity runs the real Claude Code CLI,
// driven by the scripted model, in a real checkout with a bare origin. The item walks from
// created through testing, with one REQUEST_CHANGES round trip, is merged under the repository's
// lease, built, and stops at the staging deploy, which this project does not configure.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { ARTIFACT_CONTRACT, workItemDocsDir, type Stage } from '../../src/domain';
import { REVIEW_CHANGE_REQUEST, sampleCommandsYaml } from '../../src/dev/scripted-model/pipeline-script';
import { AGENT_TIMEOUTS, originFile, originLog, startAgentRig, type AgentRig } from '../support/agent-harness';
import { startTemporal } from '../support/temporal';
import { startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';
import { cancelUpdate } from '../../src/workflows/messages';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let rig: AgentRig;
const queue = taskQueue('agent-e2e');
beforeAll(async () => {
  env = await startTemporal();
  rig = await startAgentRig(
    { reviewVerdicts: ['REQUEST_CHANGES', 'APPROVE'] },
    { projectYaml: sampleCommandsYaml(), taskQueue: queue },
  );
});
afterAll(async () => {
  await rig?.close();
  await env?.teardown();
});

test('an item goes from created to the end of testing with every artifact committed and pushed', async () => {
  const input = testInput({ timeouts: AGENT_TIMEOUTS });
  await withWorker(env, queue, createActivities(rig.config, { client: env.client }), async () => {
    const handle = await startItem(env, queue, input);
    const state = await waitForState(handle, (s) => s.status === 'blocked', 240_000);

    // Testing's work is done, merged and built; this project configures no staging deploy.
    expect({ stage: state.stage, reason: state.blocked?.reason }).toEqual({
      stage: 'deploy-staging',
      reason: 'no staging deploy is configured for shop: set commands.deployStaging and its health URL',
    });
    expect(state.gateResults.find((g) => g.gate === 'merge')).toMatchObject({
      verdict: 'PASS',
      findings: [expect.stringMatching(/^merged feature\/SHOP-\d+-apply-coupon-codes into main as [0-9a-f]{12}/)],
    });
    rig.repo.git('fetch', '--quiet', 'origin');
    expect(rig.repo.git('log', '-1', '--format=%s', 'origin/main').trim()).toBe(
      `Merge ${state.branch} (${input.ticket})`,
    );
    expect(state.gateResults.find((g) => g.gate === 'merge')?.findings[0]).toContain('passed)');
    const mainHead = rig.repo.git('rev-parse', 'origin/main').trim();
    expect(state.gateResults.find((g) => g.gate === 'image-freshness')).toMatchObject({
      verdict: 'PASS',
      findings: [`built from main at ${mainHead.slice(0, 12)}`],
    });
    expect(state.reviewRejections).toBe(1);
    expect(state.history.map((v) => v.stage)).toEqual([
      'created',
      'analysis',
      'architecture',
      'development',
      'review',
      'development',
      'review',
      'testing',
      'deploy-staging',
    ]);

    // Every artifact of every agent stage is on origin's copy of the branch.
    const docs = workItemDocsDir(input.ticket);
    for (const stage of ['analysis', 'architecture', 'review', 'testing'] as Stage[]) {
      for (const spec of ARTIFACT_CONTRACT[stage]) {
        const file = spec.path.endsWith('/') ? `${docs}/${spec.path}ADR-001-coupon-module.md` : `${docs}/${spec.path}`;
        expect({ file, present: originFile(rig.repo, state.branch, file) !== undefined }).toEqual({
          file,
          present: true,
        });
      }
    }
    expect(originFile(rig.repo, state.branch, `${docs}/12-review.md`)).toContain('verdict: APPROVE');
    expect(originFile(rig.repo, state.branch, 'CHANGELOG.md')).toContain(
      `Coupon codes at checkout (${input.ticket}, run 2)`,
    );

    // One Conventional Commit per agent run, naming ticket and stage.
    // main's first parent: main before the merge.
    expect(originLog(rig.repo, state.branch, 'origin/main^1').reverse()).toEqual([
      `docs(${input.ticket}): analysis by the analyst agent`,
      `docs(${input.ticket}): architecture by the architect agent`,
      `feat(${input.ticket}): development by the developer agent`,
      `docs(${input.ticket}): review by the reviewer agent`,
      `feat(${input.ticket}): development by the developer agent (attempt 2)`,
      `docs(${input.ticket}): review by the reviewer agent (attempt 2)`,
      `test(${input.ticket}): testing by the tester agent`,
    ]);

    // The reviewer's request reached the second developer run verbatim.
    const review = state.gateResults.find((g) => g.verdict === 'REQUEST_CHANGES');
    expect(review?.findings.join('\n')).toContain(REVIEW_CHANGE_REQUEST);
    const developerPrompts = rig.model.requests.filter(
      (r) => r.turnIndex === 0 && /^Role: developer$/m.test(r.userText),
    );
    expect(developerPrompts).toHaveLength(2);
    expect(developerPrompts[0]?.userText).not.toContain(REVIEW_CHANGE_REQUEST);
    expect(developerPrompts[1]?.userText).toContain(REVIEW_CHANGE_REQUEST);

    // The ledger holds what the CLI reported; each stage remembers its session.
    expect(state.costUsd).toBeGreaterThan(0);
    expect(Object.keys(state.sessions).sort()).toEqual([
      'analysis',
      'architecture',
      'development',
      'review',
      'testing',
    ]);
    const described = await handle.describe();
    expect(described.searchAttributes.OrchCost?.[0]).toBeCloseTo(state.costUsd, 6);
  });
});

test('a malformed review verdict and a failing test report are findings, never passes', async () => {
  const scenarioRig = await startAgentRig(
    { malformedOnce: ['reviewer'], testVerdicts: ['FAIL', 'PASS'] },
    { taskQueue: queue },
  );
  try {
    const input = testInput({ timeouts: AGENT_TIMEOUTS });
    await withWorker(env, queue, createActivities(scenarioRig.config, { client: env.client }), async () => {
      const handle = await startItem(env, queue, input);
      const state = await waitForState(handle, (s) => s.status === 'blocked' || s.stage === 'deploy-staging', 240_000);
      const docs = workItemDocsDir(input.ticket);
      const review = state.gateResults.filter((g) => g.stage === 'review');
      // The first review wrote `verdict: LGTM`: a broken contract, which sends the item back.
      expect(review[0]).toMatchObject({ verdict: 'FAIL', findings: [expect.stringContaining(`${docs}/12-review.md`)] });
      expect(review[0]?.findings[0]).toMatch(/LGTM/);
      const testing = state.gateResults.filter((g) => g.stage === 'testing' && g.gate === 'artifacts');
      expect(testing[0]).toMatchObject({
        verdict: 'FAIL',
        findings: [
          `${docs}/13-test-report.md: verdict FAIL`,
          expect.stringContaining('failed: applyCoupon(100, "SAVE10") did not return 90'),
        ],
      });
      expect(state.history.map((v) => v.stage)).toEqual([
        'created',
        'analysis',
        'architecture',
        'development',
        'review',
        'development',
        'review',
        'testing',
        'development',
        'review',
        'testing',
        'deploy-staging',
      ]);
      await handle.executeUpdate(cancelUpdate, { args: [{ by: 'test' }] });
    });
  } finally {
    await scenarioRig.close();
  }
});
