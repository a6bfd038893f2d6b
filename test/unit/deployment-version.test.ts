// The worker's Worker Deployment version (ADR-0028): names from configuration, build IDs from the
// revision and the workflow bundle's hash, and who takes the routing at start.
import { ConfigError } from '../../src/config';
import { buildId, deploymentName, workerVersioning } from '../../src/temporal/deployment-version';
import { testConfig } from '../support/config';

const HASH = '28ec0d3456c07e3f';

test('a build ID is the revision and the bundle hash, 12 characters each, safe for the server', () => {
  expect(buildId('c9c1101a2b3c4d5e6f', HASH)).toBe('c9c1101a2b3c-28ec0d3456c0');
  expect(buildId('v1.2:3/4', HASH)).toBe('v1234-28ec0d3456c0');
  expect(buildId('...', HASH)).toBe('unknown-28ec0d3456c0');
});

test('the deployment is named after the task queue unless configured; an unusable name is a config error', () => {
  expect(deploymentName(testConfig())).toBe('orchestrator');
  expect(deploymentName(testConfig({ ORCH_TASK_QUEUE: 'shop-orchestrator' }))).toBe('shop-orchestrator');
  expect(deploymentName(testConfig({ ORCH_TASK_QUEUE: 'a.b', ORCH_WORKER_DEPLOYMENT: 'ab' }))).toBe('ab');
  expect(() => deploymentName(testConfig({ ORCH_TASK_QUEUE: 'a.b' }))).toThrow(ConfigError);
  expect(() => testConfig({ ORCH_WORKER_DEPLOYMENT: 'a:b' })).toThrow(/ORCH_WORKER_DEPLOYMENT/);
  expect(() => testConfig({ ORCH_TASK_QUEUE: "q' OR 1=1" })).toThrow(/ORCH_TASK_QUEUE/);
});

test('versioning is on by default, off on request; the promote policy comes from configuration or the caller', () => {
  const revision = () => 'abcdef0123456789';
  expect(workerVersioning(testConfig(), HASH, 'if-none', revision)).toEqual({
    version: { deploymentName: 'orchestrator', buildId: 'abcdef012345-28ec0d3456c0' },
    promote: 'if-none',
  });
  expect(workerVersioning(testConfig({ ORCH_WORKER_VERSIONING: 'off' }), HASH, 'always', revision)).toBeUndefined();
  expect(
    workerVersioning(
      testConfig({ ORCH_WORKER_PROMOTE: 'never', ORCH_WORKER_BUILD_ID: 'v2' }),
      HASH,
      'always',
      revision,
    ),
  ).toEqual({ version: { deploymentName: 'orchestrator', buildId: 'v2' }, promote: 'never' });
  expect(() => testConfig({ ORCH_WORKER_PROMOTE: 'sometimes' })).toThrow(/ORCH_WORKER_PROMOTE/);
});
