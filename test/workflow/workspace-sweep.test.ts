// Checkouts of ended items expire after the retention; a running item's checkout is never swept.
// Real dev server (the items' states are Temporal's), real directories.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sweepExpiredWorkspaces } from '../../src/activities/workspace/sweep';
import { agentHomeDir, workspaceDir } from '../../src/activities/workspace/workspace';
import { startTemporal } from '../support/temporal';
import { startItem, taskQueue, testInput } from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

const DAY = 24 * 60 * 60 * 1000;

test("a running item's checkout stays; ended and unknown items' go once the retention has passed", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-sweep-'));
  // No worker polls this queue: the items stay running until the test ends them.
  const queue = taskQueue('sweep');
  const [running, ended] = [testInput(), testInput()];
  const runningHandle = await startItem(env, queue, running);
  await (await startItem(env, queue, ended)).terminate('cancelled by the test');
  const unknown = testInput();
  for (const item of [running, ended, unknown]) {
    fs.mkdirSync(path.join(workspaceDir(dataDir, item.project, item.ticket), 'src'), { recursive: true });
    fs.mkdirSync(agentHomeDir(dataDir, item.project, item.ticket), { recursive: true });
  }
  const names = (items: { project: string; ticket: string }[]) => items.map((i) => `${i.project}/${i.ticket}`).sort();
  try {
    // Within the retention everything stays.
    const early = await sweepExpiredWorkspaces(env.client, { dataDir, retentionMs: 7 * DAY });
    expect(early.removed).toEqual([]);
    expect(early.kept.sort()).toEqual(names([running, ended, unknown]));

    // Eight days on: the ended item's and the unknown one's go, the running item's stays.
    const later = await sweepExpiredWorkspaces(env.client, {
      dataDir,
      retentionMs: 7 * DAY,
      now: Date.now() + 8 * DAY,
    });
    expect(later.removed.sort()).toEqual(names([ended, unknown]));
    expect(later.kept).toEqual(names([running]));
    expect(fs.existsSync(workspaceDir(dataDir, running.project, running.ticket))).toBe(true);
    expect(fs.existsSync(workspaceDir(dataDir, ended.project, ended.ticket))).toBe(false);
    expect(fs.existsSync(agentHomeDir(dataDir, ended.project, ended.ticket))).toBe(false);
  } finally {
    await runningHandle.terminate('test over').catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
