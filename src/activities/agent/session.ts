// The identity of an agent run's Claude session, and whether the CLI stored it on this machine.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { activityInfo } from '@temporalio/activity';

/**
 * The session id of this scheduled activity, the same for all its attempts: a name-based UUID
 * of the workflow run and the activity id (a new stage visit is a new activity, a new session).
 */
export function runSessionId(): string {
  const info = activityInfo();
  const run = info.workflowExecution;
  return nameBasedUuid(`${run?.workflowId ?? info.workflowType}/${run?.runId ?? ''}/${info.activityId}`);
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
