// One-line summaries of the work item's commands, shown by the Web UI and `temporal workflow
// describe` next to each activity and timer: which role or gate, at which stage, of which item.
// Summaries are metadata of the command, not part of what replay compares.
import type { GateInput, StepInput } from '../domain';

export function stepSummary(activity: string, input: StepInput): string {
  const what = input.role
    ? `${input.role} agent`
    : activity === 'deployStaging'
      ? 'staging deploy'
      : 'production deploy';
  return `${what} · ${input.stage} · ${input.ticket} (attempt ${input.attempt})`;
}

export function gateSummary(input: GateInput): string {
  return `gate ${input.gate} · ${input.stage} · ${input.ticket} (attempt ${input.attempt})`;
}

export function leaseWaitSummary(ticket: string, leaseWorkflowId: string): string {
  return `${ticket} waits for the merge lease (${leaseWorkflowId})`;
}
