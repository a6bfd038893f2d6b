// The identity of an agent run's Claude session, and whether the CLI stored it on this machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The session id of this run, the same for all its attempts: the one the workflow chose when the
 * run may span activities (ADR-0023), else a name-based UUID of the workflow run and the activity
 * id (a new stage visit is a new activity, a new session).
 */
export function runSessionId(chosen?: string): string {
  if (chosen !== undefined) {
    // It becomes a CLI argument and a process marker: only a UUID will do. No retry mends it.
    if (!UUID.test(chosen))
      throw ApplicationFailure.nonRetryable(`run session ${JSON.stringify(chosen).slice(0, 80)} is not a UUID`);
    return chosen;
  }
  const info = activityInfo();
  const run = info.workflowExecution;
  return nameBasedUuid(`${run?.workflowId ?? info.workflowType}/${run?.runId ?? ''}/${info.activityId}`);
}

/** This attempt's number within the run, counting the attempts of earlier activities of it. */
export function runAttempt(priorAttempts = 0): number {
  return activityInfo().attempt + priorAttempts;
}

export function nameBasedUuid(name: string): string {
  const hex = crypto.createHash('sha256').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Whether the CLI stored this session under `home` (it keeps one JSONL file per session). */
export function sessionStored(home: string, sessionId: string): boolean {
  const projects = path.join(home, '.claude', 'projects');
  if (!fs.existsSync(projects)) return false;
  return fs.readdirSync(projects).some((dir) => fs.existsSync(path.join(projects, dir, `${sessionId}.jsonl`)));
}
