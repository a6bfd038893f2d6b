// What went wrong in earlier attempts of one agent run (stalls so far), kept across attempts on
// the worker's disk, outside the sandbox where the agent cannot reset it. The next attempt reads
// it to count towards agents.maxStalls and to tell the resumed session what happened; a
// successful run reports the notes to the workflow.
import fs from 'node:fs';
import path from 'node:path';

export interface RunIncidents {
  readonly stalls: number;
  /** One line per incident, oldest first: `stalled after tool Bash ... (attempt 1)`. */
  readonly notes: readonly string[];
  /**
   * Set once the CLI finished successfully: a later attempt only commits. Also heartbeated, but a
   * retry in a new activity (ADR-0023) does not see the earlier activity's heartbeats.
   */
  readonly finishedCostUsd?: number;
}

export function incidentsDir(dataDir: string, project: string, ticket: string): string {
  return path.join(dataDir, 'agent-incidents', project, ticket);
}

function fileOf(dir: string, sessionId: string): string {
  return path.join(dir, `${sessionId}.json`);
}

export function readIncidents(dir: string, sessionId: string): RunIncidents {
  try {
    const parsed = JSON.parse(fs.readFileSync(fileOf(dir, sessionId), 'utf8')) as Partial<RunIncidents>;
    const finished = parsed.finishedCostUsd;
    return {
      stalls: Number(parsed.stalls) || 0,
      notes: Array.isArray(parsed.notes) ? parsed.notes.map(String) : [],
      ...(typeof finished === 'number' && Number.isFinite(finished) ? { finishedCostUsd: finished } : {}),
    };
  } catch {
    return { stalls: 0, notes: [] };
  }
}

export function recordStall(dir: string, sessionId: string, note: string): RunIncidents {
  const before = readIncidents(dir, sessionId);
  return write(dir, sessionId, { ...before, stalls: before.stalls + 1, notes: [...before.notes, note] });
}

export function recordFinished(dir: string, sessionId: string, costUsd: number): RunIncidents {
  return write(dir, sessionId, { ...readIncidents(dir, sessionId), finishedCostUsd: costUsd });
}

function write(dir: string, sessionId: string, incidents: RunIncidents): RunIncidents {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(fileOf(dir, sessionId), JSON.stringify(incidents));
  return incidents;
}
