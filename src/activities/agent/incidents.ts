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
    return { stalls: Number(parsed.stalls) || 0, notes: Array.isArray(parsed.notes) ? parsed.notes.map(String) : [] };
  } catch {
    return { stalls: 0, notes: [] };
  }
}

export function recordStall(dir: string, sessionId: string, note: string): RunIncidents {
  const before = readIncidents(dir, sessionId);
  const after = { stalls: before.stalls + 1, notes: [...before.notes, note] };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(fileOf(dir, sessionId), JSON.stringify(after));
  return after;
}
