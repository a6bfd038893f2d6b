// The runAgent activity's person-must-act failures, run with a real activity context: they block
// the item with a reason instead of being retried, and they say what to do.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import { uniqueMockActivityEnvironment } from '../support/doubles';
import { loadConfig } from '../../src/config';
import type { StepInput } from '../../src/domain';
import { startScriptedModelServer } from '../../src/dev/scripted-model/server';
import { FAILURE_BUDGET, FAILURE_NEEDS_PERSON } from '../../src/domain/failures';
import { createRepo } from '../support/git-fixtures';

jest.setTimeout(120_000);

const input: StepInput = {
  project: 'shop',
  ticket: 'SHOP-42',
  title: 'Coupons',
  description: 'Coupons at checkout',
  stage: 'analysis',
  role: 'analyst',
  attempt: 1,
  findings: [],
  remainingBudgetUsd: 1,
  branch: 'feature/SHOP-42-coupons',
};

function configFor(env: Record<string, string>, projectYaml = '') {
  const repo = createRepo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-failures-'));
  fs.writeFileSync(
    path.join(dir, 'projects.yaml'),
    `projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n${projectYaml}`,
  );
  return loadConfig(
    { ORCH_PROJECTS_FILE: 'projects.yaml', ORCH_DATA_DIR: 'data', ORCH_AGENT_MODEL: 'claude-scripted', ...env },
    dir,
  );
}

async function failureOf(env: Record<string, string>, projectYaml = '', spend?: number): Promise<ApplicationFailure> {
  const config = configFor(env, projectYaml);
  const client = spend === undefined ? undefined : fakeSpendClient(spend);
  const activities = createActivities(config, client ? { client } : {});
  const error = await uniqueMockActivityEnvironment({ heartbeatTimeoutMs: 5000 })
    .run(activities.runAgent, input)
    .then(
      () => new Error('runAgent succeeded'),
      (err: unknown) => err,
    );
  if (!(error instanceof ApplicationFailure)) throw error;
  return error;
}

/** Just enough of a Temporal client for the project-spend query: one item that spent `usd`. */
function fakeSpendClient(usd: number) {
  return {
    workflow: {
      list: async function* () {
        yield { typedSearchAttributes: { get: () => usd } };
      },
    },
  } as never;
}

test('no credentials: blocks with what to set, before anything runs', async () => {
  const failure = await failureOf({});
  expect(failure).toMatchObject({
    type: FAILURE_NEEDS_PERSON,
    nonRetryable: true,
    message: expect.stringContaining('no model credentials: set ANTHROPIC_API_KEY'),
  });
});

test('a missing CLI binary blocks with its name, not a crash to retry', async () => {
  const failure = await failureOf({
    ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key',
    ORCH_CLAUDE_BIN: '/nonexistent/claude',
  });
  expect(failure).toMatchObject({
    type: FAILURE_NEEDS_PERSON,
    nonRetryable: true,
    message: expect.stringContaining('the Claude Code CLI could not be started (ENOENT)'),
  });
});

test('a rejected key stops the CLI at the first 401 instead of after minutes of retries', async () => {
  const model = await startScriptedModelServer([
    { error: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' } },
  ]);
  try {
    const started = Date.now();
    const failure = await failureOf({ ANTHROPIC_API_KEY: 'sk-ant-revoked-key-000000', ANTHROPIC_BASE_URL: model.url });
    expect(failure).toMatchObject({
      type: FAILURE_NEEDS_PERSON,
      message: expect.stringContaining('rejected the credentials'),
    });
    expect(failure.message).not.toContain('sk-ant-revoked');
    // The CLI alone would retry ten times over about three minutes.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(model.requests.length).toBeLessThan(4);
  } finally {
    await model.close();
  }
});

test('a project over its monthly budget blocks with the figures and what to change', async () => {
  const failure = await failureOf(
    { ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key' },
    '    monthlyBudgetUsd: 50\n',
    51.5,
  );
  expect(failure).toMatchObject({
    type: FAILURE_BUDGET,
    nonRetryable: true,
    message:
      'project shop has spent $51.50 of its monthly budget of $50.00; raise monthlyBudgetUsd in projects.yaml and retry',
  });
});
