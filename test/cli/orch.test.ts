// `orch` against the real dev server, and the equivalent raw `temporal` CLI commands from the docs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli/main';
import { resolveTool } from '../../src/config/paths';
import type { GateOutcome, WorkItemState } from '../../src/domain';
import { scriptedActivities } from '../support/doubles';
import { TEST_PROJECTS_YAML } from '../support/config';
import { runOrch } from '../support/run-orch';
import { startTemporal } from '../support/temporal';
import { taskQueue, waitForState, withWorker, uniqueTicketNumber } from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
let projectsFile: string;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-data-'));
beforeAll(async () => {
  env = await startTemporal();
  projectsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cli-')), 'projects.yaml');
  fs.writeFileSync(projectsFile, TEST_PROJECTS_YAML);
});
afterAll(async () => {
  await env?.teardown();
});

async function orch(queue: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runOrch(argv, {
    TEMPORAL_ADDRESS: env.address,
    ORCH_TASK_QUEUE: queue,
    ORCH_PROJECTS_FILE: projectsFile,
    ORCH_ACTIVITY_RETRY_INITIAL_MS: '10',
    ORCH_DATA_DIR: dataDir,
    USER: 'cli-tester',
  });
}

// Asynchronous on purpose: the worker answering the query runs in this same process.
const temporal = async (...args: string[]): Promise<string> =>
  (await promisify(execFile)(resolveTool('temporal'), [...args, '--address', env.address], { encoding: 'utf8' }))
    .stdout;

const failingReview = (input: { stage: string; gate: GateOutcome['gate'] }): GateOutcome =>
  input.stage === 'review'
    ? { gate: input.gate, verdict: 'FAIL', findings: ['missing tests for coupon expiry'] }
    : { gate: input.gate, verdict: 'PASS', findings: [] };

describe('orch', () => {
  test('submit, list, status and approve a blocked item; --json everywhere', async () => {
    const queue = taskQueue('cli');
    const ticket = `VIS-${uniqueTicketNumber()}`;
    const doubles = scriptedActivities({ gate: failingReview });
    await withWorker(env, queue, doubles.activities, async () => {
      const submitted = await orch(queue, 'submit', 'visibility', ticket, '--title', 'Coupon codes', '--json');
      expect(submitted).toMatchObject({ code: 0 });
      expect(JSON.parse(submitted.out)).toMatchObject({ workflowId: `work-item/visibility/${ticket}` });

      await waitForState(
        env.client.workflow.getHandle(`work-item/visibility/${ticket}`),
        (s) => s.status === 'blocked',
      );

      const status = await orch(queue, 'status', ticket);
      expect(status.code).toBe(0);
      expect(status.out).toContain('status    blocked: gate artifacts failed on stage review');
      expect(status.out).toContain('- missing tests for coupon expiry');

      // Other test files have items of this project on the shared server: only this one counts.
      let rows: { ticket: string; stage: string; blocked: boolean }[] = [];
      for (let i = 0; i < 50 && rows.length === 0; i++) {
        const listed: typeof rows = JSON.parse(
          (await orch(queue, 'list', '--project', 'visibility', '--blocked', '--json')).out,
        );
        rows = listed.filter((r) => r.ticket === ticket);
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([expect.objectContaining({ ticket, stage: 'review', blocked: true })]);
      expect((await orch(queue, 'list', '--project', 'visibility', '--blocked')).out).toMatch(
        new RegExp(`${ticket}\\s+visibility\\s+review\\s+yes`),
      );

      const rejected = await orch(queue, 'rollback', ticket, 'deploy');
      expect(rejected.code).toBe(1);
      expect(rejected.err).toMatch(/^orch: rejected: rollback: cannot roll back from review to "deploy"/);

      const approved = await orch(queue, 'approve', ticket, '--reason', 'tests added by hand', '--json');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.out)).toMatchObject({ ticket, status: 'active' });
      const state: WorkItemState = JSON.parse((await orch(queue, 'status', ticket, '--json')).out);
      expect(state.overrides).toEqual([
        expect.objectContaining({ kind: 'approve', by: 'cli-tester', reason: 'tests added by hand' }),
      ]);
    });
  });

  test('readable failures with exit codes: usage 2, unknown ticket 1, server down 1', async () => {
    const queue = taskQueue('cli-errors');
    expect(await orch(queue, 'frobnicate')).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown command "frobnicate"'),
    });
    expect(await orch(queue, 'status', 'NOPE-1')).toMatchObject({
      code: 2,
      err: 'orch: no configured project has ticket prefix NOPE (ticket NOPE-1)',
    });
    expect(await orch(queue, 'status', '../etc')).toMatchObject({
      code: 2,
      err: expect.stringContaining('invalid ticket id'),
    });
    expect(await orch(queue, 'skip-gate', 'SHOP-1', 'security')).toMatchObject({
      code: 2,
      err: 'orch: skip-gate needs --reason',
    });
    const unknown = await orch(queue, 'status', 'SHOP-999999', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.err).error).toMatch(/no such work item|not found/i);

    const down = await runCli(['status', 'SHOP-1'], {
      stdout: () => undefined,
      stderr: (t) => expect(t).toMatch(/^orch: cannot reach Temporal at 127\.0\.0\.1:1:/),
      env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ORCH_PROJECTS_FILE: projectsFile },
    });
    expect(down).toBe(1);
  });

  test('input is checked before anything talks to Temporal: usage errors exit 2 even with the server down', async () => {
    const offline = async (...argv: string[]) => {
      const err: string[] = [];
      const code = await runCli(argv, {
        stdout: () => undefined,
        stderr: (t) => err.push(t),
        env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ORCH_PROJECTS_FILE: projectsFile, ORCH_DATA_DIR: dataDir },
      });
      return { code, err: err.join('\n') };
    };
    expect(await offline()).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^orch: no command given\n\nusage: orch/),
    });
    expect(await offline('status', 'SHOP-1;id')).toMatchObject({
      code: 2,
      err: expect.stringContaining('invalid ticket id'),
    });
    expect(await offline('status', '../../etc', '--project', 'shop')).toMatchObject({
      code: 2,
      err: expect.stringContaining('invalid ticket id'),
    });
    expect(await offline('status', 'VIS-1', '--project', 'shop')).toMatchObject({
      code: 2,
      err: 'orch: VIS-1 belongs to project visibility, not shop',
    });
    expect(await offline('list', '--stage', 'nowhere')).toMatchObject({
      code: 2,
      err: expect.stringContaining('list: unknown stage "nowhere"'),
    });
    expect(await offline('submit', 'shop', 'VIS-1', '--title', 'x')).toMatchObject({
      code: 2,
      err: 'orch: VIS-1 has the ticket prefix of project visibility, not shop',
    });
    expect((await offline('--help')).code).toBe(0);
  });

  test('without a worker, status answers from the search attributes within its deadline', async () => {
    const queue = taskQueue('cli-no-worker');
    const ticket = `VIS-${uniqueTicketNumber()}`;
    // Submitted, but no worker polls this queue: the workflow never runs a task.
    expect((await orch(queue, 'submit', 'visibility', ticket, '--title', 'Nobody home')).code).toBe(0);
    const started = Date.now();
    const status = await orch(queue, 'status', ticket);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(status).toMatchObject({
      code: 0,
      out: expect.stringContaining(
        `${ticket}  (no worker answered the state query within 5 s: from the search attributes)`,
      ),
    });
    expect(status.out).toContain('status    RUNNING');
    await env.client.workflow.getHandle(`work-item/visibility/${ticket}`).terminate('test over');
  });

  test('titles and reasons are printed without terminal control sequences; stray workspace folders are skipped', async () => {
    const queue = taskQueue('cli-escapes');
    const ticket = `VIS-${uniqueTicketNumber()}`;
    const doubles = scriptedActivities({ gate: failingReview });
    await withWorker(env, queue, doubles.activities, async () => {
      const hostile = 'Coupons\u001b[2J\u001b]52;c;cGF5bG9hZA==\u0007 \u202eevil';
      expect((await orch(queue, 'submit', 'visibility', ticket, '--title', hostile)).code).toBe(0);
      await waitForState(
        env.client.workflow.getHandle(`work-item/visibility/${ticket}`),
        (s) => s.status === 'blocked',
      );
      const status = await orch(queue, 'status', ticket);
      expect(status.out).toContain(`${ticket}  Coupons[2J]52;c;cGF5bG9hZA== evil`);
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(status.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      await orch(queue, 'cancel', ticket);
    });
    fs.mkdirSync(path.join(dataDir, 'workspaces', 'not a project', 'x'), { recursive: true });
    fs.mkdirSync(path.join(dataDir, 'workspaces', 'shop', 'scratch'), { recursive: true });
    expect(await orch(taskQueue('cli-ws'), 'workspaces')).toMatchObject({ code: 0 });
  });

  test('the documented temporal CLI equivalents list, query and update a work item', async () => {
    const queue = taskQueue('temporal-cli');
    const ticket = `VIS-${uniqueTicketNumber()}`;
    const workflowId = `work-item/visibility/${ticket}`;
    await withWorker(env, queue, scriptedActivities({ gate: failingReview }).activities, async () => {
      await orch(queue, 'submit', 'visibility', ticket, '--title', 'Raw CLI');
      await waitForState(env.client.workflow.getHandle(workflowId), (s) => s.status === 'blocked');

      let listed = '';
      for (let i = 0; i < 50 && !listed.includes(workflowId); i++) {
        listed = await temporal(
          'workflow',
          'list',
          '--query',
          `OrchProject='visibility' AND OrchBlocked=true AND OrchTicket='${ticket}'`,
        );
      }
      expect(listed).toContain(workflowId);

      const queried = JSON.parse(
        await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'state', '--output', 'json'),
      );
      expect(queried.queryResult[0]).toMatchObject({ ticket, stage: 'review', status: 'blocked' });

      const updated = await temporal(
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        workflowId,
        '--name',
        'approve',
        '--input',
        '{"by":"ops","reason":"via temporal CLI"}',
      );
      expect(updated).toMatch(/Result\s+map\[stage:review status:active ticket:VIS-\d+\]/);
      const after = await env.client.workflow.getHandle(workflowId).query('state');
      expect((after as WorkItemState).overrides).toEqual([
        expect.objectContaining({ kind: 'approve', by: 'ops', reason: 'via temporal CLI' }),
      ]);
    });
  });

  test("top-up raises a budget-blocked item's budget; workspaces lists checkouts and cleans those of closed items", async () => {
    const queue = taskQueue('cli-budget');
    const [spent, running, gone] = [`VIS-${uniqueTicketNumber()}`, `VIS-${uniqueTicketNumber()}`, 'VIS-999999'];
    const doubles = scriptedActivities({
      step: () => ({ costUsd: 2, stop: { kind: 'budget', reason: 'the agent reached its dollar cap' } }),
    });
    await withWorker(env, queue, doubles.activities, async () => {
      for (const ticket of [spent, running])
        expect((await orch(queue, 'submit', 'visibility', ticket, '--title', 'Budget')).code).toBe(0);
      const handle = env.client.workflow.getHandle(`work-item/visibility/${spent}`);
      await waitForState(handle, (s) => s.blocked?.kind === 'budget');

      expect(await orch(queue, 'top-up', spent, 'lots')).toMatchObject({
        code: 2,
        err: expect.stringContaining('"lots" is not a dollar amount above 0'),
      });
      const topped = await orch(queue, 'top-up', spent, '$5', '--reason', 'approved by finance');
      expect(topped).toMatchObject({ code: 0, out: `added $5.00 to the budget of ${spent}: now analysis (active)` });
      const state = await waitForState(handle, (s) => s.overrides.length === 1);
      expect(state.overrides[0]).toMatchObject({
        kind: 'top-up',
        by: 'cli-tester',
        amountUsd: 5,
        reason: 'approved by finance',
      });
      expect(state.budgetUsd).toBe(25);
      // The documented temporal CLI equivalent.
      await temporal(
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        `work-item/visibility/${spent}`,
        '--name',
        'topUpBudget',
        '--input',
        '{"by":"ops","amountUsd":10,"reason":"bigger change"}',
      );
      expect((await waitForState(handle, (s) => s.overrides.length === 2)).budgetUsd).toBe(35);
      expect((await orch(queue, 'cancel', spent)).code).toBe(0);
      await handle.result();

      for (const ticket of [spent, running, gone])
        fs.mkdirSync(path.join(dataDir, 'workspaces', 'visibility', ticket), { recursive: true });
      const listed = await orch(queue, 'workspaces', '--json');
      expect(
        JSON.parse(listed.out)
          .map((r: { ticket: string; item: string }) => [r.ticket, r.item])
          .sort(),
      ).toEqual(
        [
          [spent, 'closed'],
          [running, 'running'],
          [gone, 'unknown'],
        ].sort(),
      );
      expect(await orch(queue, 'workspaces', 'clean', running)).toMatchObject({
        code: 2,
        err: expect.stringContaining(`${running} is still running; cancel it first`),
      });
      expect(await orch(queue, 'workspaces', 'clean')).toMatchObject({
        code: 0,
        out: expect.stringMatching(/^removed visibility\/VIS-/),
      });
      expect(fs.readdirSync(path.join(dataDir, 'workspaces', 'visibility'))).toEqual([running]);
      expect((await orch(queue, 'cancel', running)).code).toBe(0);
    });
  });
});
