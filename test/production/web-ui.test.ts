// What an operator sees in the Temporal Web UI, in headless Chromium (Debian's, through
// playwright-core): the workflow page of a finished item shows each agent run and gate with its
// summary (role or gate, stage, item), and `temporal workflow metadata` lists the item's signals,
// updates and query with their descriptions. The UI is the one the dev server embeds, the same
// web app as the temporalio/ui image of compose.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser } from 'playwright-core';
import { resolveTool } from '../../src/config/paths';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { createLogger } from '../../src/util/logger';
import { freePort } from '../../src/util/net';
import { scriptedActivities } from '../support/doubles';
import { startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

jest.setTimeout(180_000);

let server: DevServer;
let env: TestWorkflowEnvironment;
let browser: Browser;

beforeAll(async () => {
  server = await startDevServer({
    binary: resolveTool('temporal'),
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'orch-web-ui-')),
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    logger: createLogger({ level: 'error' }),
  });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  browser = await chromium.launch({
    executablePath: execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await env?.teardown();
  await server?.stop();
});

test('the workflow page shows every agent run and gate by its summary; handlers carry descriptions', async () => {
  const queue = taskQueue('web-ui');
  const input = testInput();
  const doubles = scriptedActivities();
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, input);
    await waitForState(handle, (st) => st.status === 'done', 60_000);
    await checkWorkflowPage(handle.workflowId, (await handle.describe()).runId, input.ticket);
    // The query needs a worker: asked while this one runs.
    await checkHandlerDescriptions(handle.workflowId);
  });
});

async function checkWorkflowPage(workflowId: string, runId: string, ticket: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`);
  // The event history lists each scheduled activity under its summary.
  for (const summary of [
    `analyst agent · analysis · ${ticket} (attempt 1)`,
    `gate artifacts · analysis · ${ticket} (attempt 1)`,
    `developer agent · development · ${ticket} (attempt 1)`,
    `gate merge · testing · ${ticket} (attempt 1)`,
    `production deploy · deploy · ${ticket} (attempt 1)`,
  ]) {
    await page.waitForFunction(pageShows, summary, { timeout: 30_000 });
  }
  const shot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-web-ui-shot-')), 'workflow.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
  await page.close();
}

/** Whether the page's visible text holds `text`; runs in the browser (serialized: self-contained). */
function pageShows(text: string): boolean {
  return (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes(
    text,
  );
}

async function checkHandlerDescriptions(workflowId: string): Promise<void> {
  // Not execFileSync: the worker answering the query runs in this process.
  const { stdout: metadata } = await promisify(execFile)(resolveTool('temporal'), [
    'workflow',
    'metadata',
    '--workflow-id',
    workflowId,
    '--address',
    server.address,
    '--output',
    'json',
  ]);
  for (const description of [
    "The item's whole state",
    'A tracker or operator event',
    "The repository's merge lease workflow grants",
    'Approve a blocked item',
    'Run the blocked step again',
    'Skip one gate of the current stage',
    "Add to the item's budget",
    'Stop the running work and go back',
    'Stop the running work and end the item as cancelled',
  ])
    expect(metadata).toContain(description);
}
