// What the end of a CLI run means for the step: nothing (success, commit and push follow), a
// result that stops or sends the stage back, or a thrown failure (retried by Temporal, or a block).
import { ApplicationFailure } from '@temporalio/common';
import type { Role, StepInput, StepResult } from '../../domain';
import { needsPerson } from '../failures';
import { agentIncidents } from '../metrics';
import type { RunEndOutcome } from './cli-process';
import { recordStall } from './incidents';
import { runAttempt } from './session';
import type { StreamState } from './stream';

export interface RunEndContext {
  readonly costUsd: number;
  readonly sessionId: string;
  readonly role: Role;
  readonly input: StepInput;
  readonly maxStalls: number;
  readonly incidentsDir: string;
  readonly stream: StreamState;
}

export function onRunEnd(outcome: RunEndOutcome, ctx: RunEndContext): StepResult | undefined {
  const labels = { project: ctx.input.project, role: ctx.role };
  switch (outcome.kind) {
    case 'success':
      return undefined;
    case 'budget':
      return { costUsd: ctx.costUsd, sessionId: ctx.sessionId, stop: { kind: 'budget', reason: outcome.message } };
    case 'binary-missing':
    case 'credentials':
    case 'limit':
      throw needsPerson(outcome.message);
    case 'loop':
      // Like a failed gate: the stage's failure path, with the repeated call quoted.
      agentIncidents.inc({ ...labels, kind: 'loop' });
      return {
        costUsd: ctx.costUsd,
        sessionId: ctx.sessionId,
        failed: { kind: 'loop', findings: [outcome.message] },
        summary: `${ctx.role} stopped in a loop`,
      };
    case 'stall': {
      agentIncidents.inc({ ...labels, kind: 'stall' });
      const after = recordStall(
        ctx.incidentsDir,
        ctx.sessionId,
        `${outcome.message} (attempt ${runAttempt(ctx.input.priorAttempts)})`,
      );
      if (after.stalls >= ctx.maxStalls) {
        throw needsPerson(
          `the ${ctx.role} agent stalled ${after.stalls} times in stage ${ctx.input.stage} (agents.maxStalls ${ctx.maxStalls}): ${after.notes.join(' | ')}`,
        );
      }
      // Retried by Temporal; the retry resumes this session and is told it stalled.
      throw ApplicationFailure.create({ type: 'AgentStalled', message: `the ${ctx.role} agent ${outcome.message}` });
    }
    case 'max-turns':
    case 'crash':
      if (!ctx.stream.result) agentIncidents.inc({ ...labels, kind: 'silent-exit' });
      // Retried by Temporal (a bounded number of attempts); the retry resumes this session.
      throw ApplicationFailure.create({ type: 'AgentRunFailed', message: outcome.message });
  }
}
