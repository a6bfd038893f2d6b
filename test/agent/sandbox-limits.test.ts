// The sandbox fails closed and holds its limits, through the runAgent activity with the real CLI:
// no bubblewrap blocks the item with what to install; a run past its wall time is stopped and
// blocks with the setting to raise; a fork storm stops at the process limit inside.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import { uniqueMockActivityEnvironment } from '../support/doubles';
import { loadConfig } from '../../src/config';
import type { StepInput, StepResult } from '../../src/domain';
import {
  startScriptedModelServer,
  type ModelScript,
  type ScriptedModelServer,
} from '../../src/dev/scripted-model/server';
import { FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { createRepo } from '../support/git-fixtures';
import { alive, deferred, pidsWithArg } from '../support/processes';

jest.setTimeout(120_000);

const input: StepInput = {
  project: 'shop',
  ticket: 'SHOP-7',
  title: 'Coupons',
  description: 'Coupons at checkout',
  stage: 'development',
  role: 'developer',
  attempt: 1,
  findings: [],
  remainingBudgetUsd: 1,
  branch: 'feature/SHOP-7-coupons',
};

const servers: ScriptedModelServer[] = [];
const releases: (() => void)[] = [];
afterAll(async () => {
  for (const release of releases) release();
  for (const server of servers) await server.close();
});

/** `agentsYaml`: lines under the project's `agents:` (indented by 6). */
async function runAgent(
  script: ModelScript,
  env: Record<string, string>,
  agentsYaml = '',
): Promise<StepResult | ApplicationFailure> {
  const model = await startScriptedModelServer(script);
  servers.push(model);
  const repo = createRepo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-sandbox-limits-'));
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n    agents:\n${agentsYaml || '      model: claude-scripted\n'}`,
  );
  const config = loadConfig(
    {
      ORCH_PROJECTS_FILE: 'projects.yaml',
      ORCH_DATA_DIR: 'data',
      ORCH_AGENT_MODEL: 'claude-scripted',
      ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key',
      ANTHROPIC_BASE_URL: model.url,
      ...env,
    },
    dir,
  );
  try {
    return (await uniqueMockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run(
      createActivities(config, {}).runAgent,
      input,
    )) as StepResult;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
}

test('without bubblewrap the item blocks with what to install, and no agent runs', async () => {
  let asked = 0;
  const outcome = await runAgent(() => ((asked += 1), { text: 'should never run' }), {
    ORCH_BWRAP_BIN: '/nonexistent/bwrap',
  });
  expect(outcome).toMatchObject({ type: FAILURE_NEEDS_PERSON, nonRetryable: true });
  expect((outcome as ApplicationFailure).message).toMatch(
    /needs bubblewrap, which is not installed .*apt-get install bubblewrap.*ORCH_AGENT_SANDBOX=off/,
  );
  expect(asked).toBe(0);
});

test("a run past its role's wall time is stopped with everything inside, and blocks with the setting to raise", async () => {
  const hold = deferred();
  releases.push(() => hold.resolve());
  // The model answers the first turn with a command that outlives the run, then never again.
  const script: ModelScript = async ({ turnIndex }) => {
    if (turnIndex === 0)
      return {
        tool: 'Bash',
        input: { command: 'nohup sleep 912.5 > /dev/null 2>&1 & echo started', description: 'start' },
      };
    await hold.promise;
    return { text: 'too late' };
  };
  const started = Date.now();
  const outcome = await runAgent(script, {}, '      maxMinutes: { developer: 0.05 }\n');
  expect(outcome).toMatchObject({
    type: FAILURE_NEEDS_PERSON,
    message: 'the developer agent was stopped after its wall time of 0.05 minutes (agents.maxMinutes.developer)',
  });
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(pidsWithArg('912.5').filter(alive)).toEqual([]);
});

test('a fork storm inside never passes the process limit', async () => {
  const script: ModelScript = ({ turnIndex }) =>
    turnIndex === 0
      ? {
          tool: 'Bash',
          input: {
            command:
              'for i in $(seq 300); do sleep 31.7 & done 2>/dev/null; sleep 2; kill $(jobs -p) 2>/dev/null; true',
            description: 'fork',
          },
        }
      : { text: 'done' };
  let most = 0;
  let running = true;
  const watch = (async () => {
    while (running) {
      most = Math.max(most, pidsWithArg('31.7').length);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const outcome = await runAgent(script, {}, '      sandbox:\n        maxProcesses: 100\n');
  running = false;
  await watch;
  // The storm ran (many sleeps at once) but never past the limit, which the CLI's own threads
  // share: the run may end normally or, starved of threads, as a crash that Temporal retries.
  expect(most).toBeGreaterThan(10);
  expect(most).toBeLessThan(100);
  if (outcome instanceof ApplicationFailure) expect(outcome.type).toBe('AgentRunFailed');
  expect(pidsWithArg('31.7').filter(alive)).toEqual([]);
});
