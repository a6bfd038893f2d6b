// Which running work item of a project has a commit as its branch head (ADR-0025): how a CI
// status, which names only a commit, finds its item. Read from visibility (`OrchHeadSha`).
import type { Client } from '@temporalio/client';
import { COMMIT_ID, PROJECT_KEY_PATTERN, SA_TICKET } from '../domain';

export type HeadLookup = (project: string, sha: string) => Promise<string | undefined>;

/** The ticket of the running item whose head is `sha`, if any. Throws when visibility cannot be asked. */
export function itemByHead(client: Client): HeadLookup {
  return async (project, sha) => {
    // Both go into a visibility query: only what cannot carry a quote is asked about.
    if (!COMMIT_ID.test(sha) || !PROJECT_KEY_PATTERN.test(project)) return undefined;
    const query = `WorkflowType = 'workItem' AND ExecutionStatus = 'Running' AND OrchProject = '${project}' AND OrchHeadSha = '${sha}'`;
    for await (const execution of client.workflow.list({ query, pageSize: 2 }))
      return execution.typedSearchAttributes.get(SA_TICKET);
    return undefined;
  };
}
