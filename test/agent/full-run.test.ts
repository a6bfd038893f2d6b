// One work item from created to done on the real dev server: the real Claude Code CLI (scripted
// model) for every agent stage, real git with a bare origin, the real gitleaks and dependency
// audit, the merge under the repository's lease, a real build, and a real local service deployed
// to staging and production, health-checked and observed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { workItemDocsDir } from '../../src/domain';
import { sampleCommandsYaml } from '../../src/dev/scripted-model/pipeline-script';
import { SAMPLE_SERVICE } from '../../src/dev/sample-service';
import { AGENT_TIMEOUTS, originFile, startAgentRig, type AgentRig } from '../support/agent-harness';
import { buildOsvDatabase } from '../support/osv-db';
import { freePort } from '../support/processes';
import { startTemporal } from '../support/temporal';
import { startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let rig: AgentRig;
const pidFiles: string[] = [];
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  for (const file of pidFiles) {
    try {
      process.kill(Number(fs.readFileSync(file, 'utf8')), 'SIGKILL');
    } catch {
      // Never started.
    }
  }
  await rig?.close();
  await env?.teardown();
});

test('an item goes from created to done: agents, security, merge, build, staging, production, observation', async () => {
  const queue = taskQueue('full-run');
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  const pids = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-full-'));
  pidFiles.push(path.join(pids, 'staging.pid'), path.join(pids, 'production.pid'));
  const start = (port: number, name: string) =>
    JSON.stringify(`PORT=${port} PIDFILE=${pids}/${name}.pid setsid node server.js > /dev/null 2>&1 < /dev/null &`);
  rig = await startAgentRig(
    {},
    {
      taskQueue: queue,
      files: { 'README.md': '# shop\n', 'CHANGELOG.md': '# Changelog\n', 'server.js': SAMPLE_SERVICE },
      env: {
        ORCH_SECURITY_GATE_SCOPE: 'shop',
        ORCH_OSV_DB_DIR: buildOsvDatabase([
          { id: 'GHSA-test-other', summary: 'unrelated', package: 'left-pad', introduced: '0', fixed: '1.3.0' },
        ]),
      },
      projectYaml: [
        sampleCommandsYaml().trimEnd(),
        `      deployStaging: ${start(stagingPort, 'staging')}`,
        `      deployProduction: ${start(productionPort, 'production')}`,
        '      rollback: "echo rollback"',
        '    health:',
        `      stagingUrl: http://127.0.0.1:${stagingPort}/health`,
        `      productionUrl: http://127.0.0.1:${productionPort}/health`,
        '      timeoutMs: 10000',
        '      intervalMs: 100',
        '    observation:',
        '      windowMs: 600',
        '      probeIntervalMs: 100',
        '',
      ].join('\n'),
    },
  );
  const input = testInput({ timeouts: AGENT_TIMEOUTS });
  await withWorker(env, queue, createActivities(rig.config, { client: env.client }), async () => {
    const handle = await startItem(env, queue, input);
    const state = await waitForState(handle, (s) => s.status !== 'active', 240_000);
    expect({ status: state.status, blocked: state.blocked?.reason }).toEqual({ status: 'done', blocked: undefined });
    await handle.result();

    expect(state.history.map((v) => v.stage)).toEqual([
      'created',
      'analysis',
      'architecture',
      'development',
      'review',
      'testing',
      'deploy-staging',
      'deploy',
      'done',
    ]);
    const verdicts = state.gateResults.map((g) => `${g.stage}/${g.gate}:${g.verdict}`);
    expect(verdicts).toEqual(
      expect.arrayContaining([
        'testing/security:PASS',
        'testing/merge:PASS',
        'testing/image-freshness:PASS',
        'deploy-staging/artifacts:PASS',
        'deploy/artifacts:PASS',
        'deploy/observation:PASS',
      ]),
    );
    expect(state.gateResults.find((g) => g.gate === 'security')?.findings.join(' ')).not.toContain('does not apply');

    const docs = workItemDocsDir(input.ticket);
    expect(originFile(rig.repo, state.branch, `${docs}/17-security-report.md`)).toContain('security_status: PASS');
    expect(originFile(rig.repo, state.branch, `${docs}/15-staging-log.md`)).toContain('staging_status: SUCCESS');
    expect(originFile(rig.repo, state.branch, `${docs}/14-deploy-log.md`)).toContain('deploy_status: SUCCESS');
    expect(originFile(rig.repo, state.branch, `${docs}/16-post-deploy-log.md`)).toContain(
      'observation_status: HEALTHY',
    );

    // Production serves the merged main, and the delivered item's workspace is gone.
    const main = rig.repo.git('rev-parse', 'origin/main').trim();
    expect(await (await fetch(`http://127.0.0.1:${productionPort}/health`)).text()).toBe(main);
    expect(fs.existsSync(path.join(rig.config.dataDir, 'workspaces', 'shop', input.ticket))).toBe(false);
  });
});
