// Real gates inside the pipeline on the real dev server: step doubles act like agents (they
// commit the stage's artifacts to the item branch with git); the artifacts and security gates
// are the real activities over a real repository with the real gitleaks.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createGateActivities } from '../../src/activities/gates';
import type { AppConfig } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { loadTemporalSettings } from '../../src/temporal/connection-settings';
import { parseProjects } from '../../src/config/projects';
import { itemBranch, type StepInput } from '../../src/domain';
import { scriptedActivities } from '../support/doubles';
import { createRepo } from '../support/git-fixtures';
import { startTemporal } from '../support/temporal';
import {
  startItem,
  taskQueue,
  testInput,
  waitForState,
  withWorker,
  reachedStaging,
  stagingOrBlocked,
} from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

const AWS_KEY = ['AKIA', 'ZXCVBNMASDFGHJKL'].join('');

test('a secret fails the security gate before merge; the findings reach the developer verbatim; a clean branch is merged', async () => {
  const repo = createRepo();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-data-'));
  const config: AppConfig = {
    temporal: loadTemporalSettings({}),
    env: loadEnv({ ORCH_SECURITY_GATE_SCOPE: 'shop' }),
    projectsFile: path.join(dataDir, 'projects.yaml'),
    projects: parseProjects(`projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: ${repo.origin}\n`, 'p.yaml')
      .projects,
    dataDir,
  };
  const input = testInput({ title: 'Apply coupon codes' });
  const branch = itemBranch(input.ticket, input.title);
  const dir = `docs/work-items/${input.ticket}`;
  let developerRuns = 0;
  // What each "agent" leaves on the branch.
  const agent = (step: StepInput) => {
    const files: Record<string, Record<string, string>> = {
      analysis: {
        [`${dir}/00-business-request.md`]: '# Request\n',
        [`${dir}/01-brd.md`]: '# BRD\n',
        [`${dir}/02-trz.md`]: '# Spec\n',
        [`${dir}/03-acceptance-criteria.md`]: '- coupons apply\n',
        [`${dir}/04-test-plan.yaml`]: 'cases:\n  - coupon applies\n',
      },
      architecture: {
        [`${dir}/06-adr/ADR-001-coupon-storage.md`]: '# ADR-001\n',
        [`${dir}/07-infra-requirements.md`]: 'none\n',
        [`${dir}/08-data-requirements.md`]: 'coupons table\n',
        [`${dir}/10-tech-risks.md`]: 'low\n',
      },
      review: { [`${dir}/12-review.md`]: '---\nverdict: APPROVE\n---\n\nFine.\n' },
      testing: { [`${dir}/13-test-report.md`]: '---\nverdict: PASS\n---\n\nAll green.\n' },
    };
    if (step.stage === 'development') {
      developerRuns += 1;
      if (developerRuns === 1) {
        repo.commit(branch, {
          'src/coupon.js': `const key = "${AWS_KEY}";\n`,
          'CHANGELOG.md': '# Changelog\n- coupons\n',
        });
      } else {
        // The finding says to remove the secret from the branch history: rebuild the branch.
        const keep = ['docs'];
        repo.git('checkout', '--quiet', branch);
        repo.git('checkout', '--quiet', '-B', `${branch}-clean`, 'main');
        repo.git('checkout', '--quiet', branch, '--', ...keep);
        fs.mkdirSync(path.join(repo.work, 'src'), { recursive: true });
        fs.writeFileSync(path.join(repo.work, 'src/coupon.js'), 'const key = process.env.AWS_ACCESS_KEY_ID;\n');
        fs.writeFileSync(path.join(repo.work, 'CHANGELOG.md'), '# Changelog\n- coupons\n');
        repo.git('add', '-A');
        repo.git('commit', '--quiet', '-m', 'feat: coupons without the key');
        repo.git('branch', '--quiet', '-f', branch, `${branch}-clean`);
        repo.git('checkout', '--quiet', branch);
        execFileSync('git', ['push', '--quiet', '--force', 'origin', branch], { cwd: repo.work });
      }
    } else if (files[step.stage]) {
      // Each run leaves its own mark, as a real agent's rewrite would.
      const marked = Object.fromEntries(
        Object.entries(files[step.stage]!).map(([f, c]) => [
          f,
          f.endsWith('.md') ? `${c}\n<!-- run ${step.attempt} -->\n` : c,
        ]),
      );
      repo.commit(branch, marked);
    }
    return { costUsd: 0.1 };
  };
  const doubles = scriptedActivities({ step: agent });
  const queue = taskQueue('real-gates');
  await withWorker(env, queue, { ...doubles.activities, runGate: createGateActivities(config).runGate }, async () => {
    const handle = await startItem(env, queue, input);
    // Every gate on the edge into deploy-staging passed for the clean branch.
    const state = await waitForState(handle, stagingOrBlocked, 60_000);
    expect({ staging: reachedStaging(state), blocked: state.blocked?.reason }).toEqual({
      staging: true,
      blocked: undefined,
    });

    const securityResults = state.gateResults.filter((g) => g.gate === 'security');
    expect(securityResults.map((g) => g.verdict)).toEqual(['FAIL', 'PASS']);
    const finding = securityResults[0]!.findings[0]!;
    expect(finding).toMatch(
      /^secret: rule aws-access-token in src\/coupon\.js:1 \(commit [0-9a-f]{12}\); remove it from the branch history and rotate it$/,
    );
    expect(JSON.stringify(state)).not.toContain(AWS_KEY);

    const devRuns = doubles.stepCalls.filter((c) => c.stage === 'development');
    expect(devRuns).toHaveLength(2);
    expect(devRuns[1]!.findings).toEqual([finding]);
    // On the edge into deploy-staging: artifacts, then security, then merge.
    const testingEdge = state.gateResults.filter((g) => g.stage === 'testing').map((g) => `${g.gate}:${g.verdict}`);
    expect(testingEdge).toEqual([
      'artifacts:PASS',
      'security:FAIL',
      'artifacts:PASS',
      'security:PASS',
      'merge:PASS',
      'image-freshness:PASS',
    ]);
    // The clean branch reached main; the secret never did.
    repo.git('fetch', '--quiet', 'origin');
    expect(repo.git('show', 'origin/main:src/coupon.js')).toBe('const key = process.env.AWS_ACCESS_KEY_ID;\n');
    expect(repo.git('log', '-p', 'origin/main')).not.toContain(AWS_KEY);
    await handle.terminate('test over');
  });
});
