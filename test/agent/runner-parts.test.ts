import { agentEnvironment, claudeArgs } from '../../src/activities/agent/command';
import { spendQuery } from '../../src/activities/agent/project-spend';
import { loadEnv } from '../../src/config/env';
import { ROLE_PERMISSIONS } from '../../src/domain';

test('the child environment carries the model credentials and nothing secret besides', () => {
  const env = loadEnv({
    ANTHROPIC_API_KEY: 'sk-ant-test-key-000000',
    ORCH_PLANE_API_KEY: 'plane-key-0000000000',
    ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret-000000',
  });
  const child = agentEnvironment(env, '/data/agent-home', {
    PATH: '/usr/bin',
    ORCH_PLANE_API_KEY: 'plane-key-0000000000',
    ORCH_GITEA_TOKEN: 'gitea-token-00000000',
    AWS_SECRET_ACCESS_KEY: 'x',
  });
  expect(child).toEqual({
    PATH: '/usr/bin',
    HOME: '/data/agent-home',
    ANTHROPIC_API_KEY: 'sk-ant-test-key-000000',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
  });
});

test("the worker's OpenTelemetry settings reach the CLI, which exports its own telemetry; exporter headers do not", () => {
  const child = agentEnvironment(loadEnv({}), '/data/agent-home', {
    PATH: '/usr/bin',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer collector-secret',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=collector-secret',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=production',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  });
  expect(child).toMatchObject({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4318',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=production',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  });
  expect(JSON.stringify(child)).not.toContain('collector-secret');
});

test('a new run fixes its session id, a resumed one names it; the budget is a dollar cap', () => {
  const common = {
    rolePrompt: '# Role',
    permissions: ROLE_PERMISSIONS.reviewer,
    model: 'sonnet',
    maxBudgetUsd: 1.23456,
  };
  const fresh = claudeArgs({ ...common, session: { mode: 'new', id: 'abc' } });
  expect(fresh.slice(0, 4)).toEqual(['-p', '--output-format', 'stream-json', '--verbose']);
  expect(fresh).toEqual(
    expect.arrayContaining(['--session-id', 'abc', '--max-budget-usd', '1.2346', '--setting-sources', 'user']),
  );
  expect(fresh[fresh.indexOf('--allowedTools') + 1]).toContain('Bash(git diff:*)');
  const resumed = claudeArgs({ ...common, session: { mode: 'resume', id: 'abc' }, maxTurns: 50 });
  expect(resumed).toEqual(expect.arrayContaining(['--resume', 'abc', '--max-turns', '50']));
  expect(resumed).not.toContain('--session-id');
});

test('the project spend counts running items and those closed this month, never continued runs', () => {
  expect(spendQuery('shop', new Date('2026-11-24T10:00:00Z'))).toBe(
    'OrchProject = "shop" AND WorkflowType = "workItem" AND ExecutionStatus != "ContinuedAsNew" AND (ExecutionStatus = "Running" OR CloseTime >= "2026-11-01T00:00:00.000Z")',
  );
});
