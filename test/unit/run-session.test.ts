// A run's session may span activities (ADR-0023): the workflow chooses it, the runner checks it,
// and what a finished CLI cost is kept on disk for a retry that is a new activity.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { readIncidents, recordFinished, recordStall } from '../../src/activities/agent/incidents';
import { runSessionId } from '../../src/activities/agent/session';

const SESSION = '0b6f3c2e-5d4a-4e1b-9c8d-7a6b5c4d3e2f';

test("the workflow's session is used as it is", () => {
  expect(runSessionId(SESSION)).toBe(SESSION);
});

test.each(['', 'not-a-uuid', `${SESSION} --dangerously-skip-permissions`, SESSION.toUpperCase()])(
  'a session that is not a lower-case UUID (%j) is refused for good',
  (chosen) => {
    let thrown: unknown;
    try {
      runSessionId(chosen);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect((thrown as ApplicationFailure).nonRetryable).toBe(true);
    expect((thrown as Error).message).toMatch(/is not a UUID$/);
  },
);

test("a finished run's cost is read back by a later attempt, beside its stalls", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-incidents-'));
  try {
    expect(readIncidents(dir, SESSION)).toEqual({ stalls: 0, notes: [] });
    recordStall(dir, SESSION, 'stalled after tool Bash (attempt 1)');
    recordFinished(dir, SESSION, 0.42);
    expect(readIncidents(dir, SESSION)).toEqual({
      stalls: 1,
      notes: ['stalled after tool Bash (attempt 1)'],
      finishedCostUsd: 0.42,
    });
    // A free run (cost 0) is finished too.
    recordFinished(dir, SESSION, 0);
    expect(readIncidents(dir, SESSION).finishedCostUsd).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged cost on disk is not taken for a finished run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-incidents-'));
  try {
    recordStall(dir, SESSION, 'stalled');
    const file = fs.readdirSync(dir).map((f) => path.join(dir, f))[0]!;
    fs.writeFileSync(file, JSON.stringify({ stalls: 1, notes: ['stalled'], finishedCostUsd: null }));
    expect(readIncidents(dir, SESSION)).toEqual({ stalls: 1, notes: ['stalled'] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
