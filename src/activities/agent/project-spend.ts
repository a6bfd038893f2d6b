// What a project's work items have spent, from the cost search attribute every item keeps up to
// date. Counted: items in flight plus items closed in the current calendar month (UTC); runs that
// continued-as-new are skipped because their successor carries the same ledger.
import type { Client } from '@temporalio/client';
import { SA_COST } from '../../domain';

export interface ProjectSpend {
  spentUsd(project: string, now?: Date): Promise<number>;
}

export function spendQuery(project: string, now: Date): string {
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  return `OrchProject = ${JSON.stringify(project)} AND WorkflowType = "workItem" AND ExecutionStatus != "ContinuedAsNew" AND (ExecutionStatus = "Running" OR CloseTime >= "${monthStart}")`;
}

export function projectSpendFromClient(client: Client): ProjectSpend {
  return {
    async spentUsd(project, now = new Date()) {
      let total = 0;
      for await (const execution of client.workflow.list({ query: spendQuery(project, now) })) {
        total += execution.typedSearchAttributes.get(SA_COST) ?? 0;
      }
      return total;
    },
  };
}
