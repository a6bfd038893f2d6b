// What a work item's tracker notices cost (`tracker-courier`, `coalesced-publish`): nothing for
// a project without trackers; otherwise batches delivered beside the work, never ahead of it;
// and search attributes upserted at most once per workflow task, only when they changed.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TrackerNoticesInput } from '../../src/domain';
import { FOLD_MARKER } from '../../src/workflows/patches';
import { deferred } from '../support/processes';
import { scriptedActivities } from '../support/doubles';
import { startTemporal } from '../support/temporal';
import { recordHistory, startItem, taskQueue, testInput, waitForState, withWorker } from '../support/work-item-harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

/** The ids of the patch markers in the item's history, in order. */
async function patchMarkers(workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

async function activityNames(workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** The work item's own search-attribute upserts (not the SDK's TemporalChangeVersion ones), and the workflow tasks. */
async function upserts(workflowId: string): Promise<{ values: string[]; perTask: number[] }> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const values: string[] = [];
  const perTask: number[] = [0];
  for (const e of history.events ?? []) {
    if (e.workflowTaskCompletedEventAttributes) perTask.push(0);
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (!fields || 'TemporalChangeVersion' in fields) continue;
    perTask[perTask.length - 1]! += 1;
    values.push(
      JSON.stringify(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v.data ?? []).toString('utf8')])),
    );
  }
  return { values, perTask };
}

test('a project without trackers: its item runs no tracker activity at all', async () => {
  const doubles = scriptedActivities();
  const queue = taskQueue('courier-none');
  await withWorker(env, queue, doubles.activities, async () => {
    const handle = await startItem(env, queue, testInput({ trackers: false }));
    const done = await handle.result();
    expect(done).toMatchObject({ status: 'done', notices: [] });
    const names = await activityNames(handle.workflowId);
    expect(names.filter((n) => n.startsWith('syncTracker'))).toEqual([]);
    // The steps and gates, the lease request and the workspace release: nothing else.
    expect(new Set(names)).toEqual(
      new Set(['runAgent', 'runGate', 'requestMergeLease', 'deployStaging', 'deployProduction', 'releaseWorkspace']),
    );
    // At most one upsert per workflow task, and only when a value changed.
    const { values, perTask } = await upserts(handle.workflowId);
    expect(Math.max(...perTask)).toBe(1);
    expect(values.filter((v, i) => i > 0 && v === values[i - 1])).toEqual([]);
    // It keeps no notices, and no patch id is asked one by one (each costs two events): a run on
    // today's code holds the fold's marker alone (ADR-0032). The v7- and v8-untracked histories
    // replay the ids asked one by one, with and without untracked-keeps-no-notices.
    expect(await patchMarkers(handle.workflowId)).toEqual([FOLD_MARKER]);
    await recordHistory(env, handle, 'untracked');
  });
});

test('notices travel beside the work: a slow tracker does not hold up the next step, and what piled up goes in one batch', async () => {
  const doubles = scriptedActivities();
  const batches: TrackerNoticesInput[] = [];
  const release = deferred();
  let firstHeld = false;
  const queue = taskQueue('courier-slow');
  await withWorker(
    env,
    queue,
    {
      ...doubles.activities,
      syncTrackerNotices: async (input) => {
        batches.push(input);
        // The first delivery hangs until the item is well into its work.
        if (!firstHeld) {
          firstHeld = true;
          await release.promise;
        }
        return { summary: 'told' };
      },
    },
    async () => {
      const handle = await startItem(env, queue, testInput());
      // Analysis and architecture ran while the tracker still sat on the first notice.
      await waitForState(handle, (s) => s.history.some((h) => h.stage === 'development'));
      expect(batches).toHaveLength(1);
      expect(doubles.stepCalls.map((c) => c.stage).slice(0, 2)).toEqual(['analysis', 'architecture']);
      release.resolve();
      const done = await handle.result();
      expect(done.notices).toEqual([]);
      // In order, each once, the backlog of the slow delivery in one batch after it.
      const seqs = batches.flatMap((b) => b.notices.map((n) => n.seq));
      expect(seqs).toEqual(Array.from({ length: done.noticeSeq }, (_, i) => i + 1));
      expect(batches[1]!.notices.length).toBeGreaterThan(1);
      expect(batches.length).toBeLessThan(done.noticeSeq);
    },
  );
});
