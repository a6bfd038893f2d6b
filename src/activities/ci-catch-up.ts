// The CI half of the catch-up job (ADR-0025): a commit status whose delivery was lost (the API
// was down, Gitea gave up) is read back from Gitea's API. For every running item of a project
// with required CI contexts, the statuses Gitea holds for the item's head that the item has not
// heard are sent to it as the delivery would have been; an item blocked because CI was silent is
// retried once what it waited for is there. Keys make a repeated run harmless.
import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { projectsWaitingForCi, type AppConfig, type ProjectConfig } from '../config';
import {
  PROJECT_KEY_PATTERN,
  SA_HEAD_SHA,
  SA_TICKET,
  ciVerdict,
  recordCiStatus,
  validCiStatus,
  type CiStatus,
  type WorkItemEvent,
} from '../domain';
import type { CiCatchUpResult } from '../domain/reconcile';
import { workItemHandle } from '../client/work-items';
import type { GiteaClient } from '../tracker/gitea-client';
import { eventSignal, stateQuery } from '../workflows/messages';
import { catchUpProject } from './catch-up-project';
import { overrideApplied } from './override-as-job';

export interface CiCatchUpDeps {
  readonly config: AppConfig;
  readonly client: Client;
  readonly gitea?: GiteaClient;
}

export function createCiCatchUpActivities(deps: CiCatchUpDeps) {
  /** The running items of a project that published a head, as [ticket, head]. */
  async function itemsWithHeads(project: string): Promise<[string, string][]> {
    // The key goes into a visibility query: only what cannot carry a quote is asked about.
    if (!PROJECT_KEY_PATTERN.test(project)) return [];
    const query = `WorkflowType = 'workItem' AND ExecutionStatus = 'Running' AND OrchProject = '${project}'`;
    const found: [string, string][] = [];
    for await (const execution of deps.client.workflow.list({ query })) {
      const ticket = execution.typedSearchAttributes.get(SA_TICKET);
      const head = execution.typedSearchAttributes.get(SA_HEAD_SHA);
      if (ticket && head) found.push([ticket, head]);
    }
    return found;
  }

  async function catchUp(
    gitea: GiteaClient,
    project: string,
    config: ProjectConfig,
    into: CiCatchUpResult,
  ): Promise<void> {
    const repo = (config.gitea as NonNullable<ProjectConfig['gitea']>).repository;
    const required = config.ci.requiredContexts;
    for (const [ticket, head] of await itemsWithHeads(project)) {
      heartbeat(`${project}:${ticket}`);
      const held = (await gitea.latestStatuses(repo, head))
        .map((s) =>
          validCiStatus({
            sha: head,
            context: s.context,
            state: s.status,
            description: s.description ?? undefined,
            targetUrl: s.target_url ?? undefined,
          }),
        )
        .filter((s): s is CiStatus => s !== undefined && required.includes(s.context));
      if (held.length === 0) continue;
      const handle = workItemHandle(deps.client, project, ticket);
      const state = await handle.query(stateQuery);
      // The item moved on to another head meanwhile: what Gitea says of this one no longer counts.
      if (state.headSha !== head) continue;
      const heard = new Map((state.ciStatuses ?? []).map((s) => [s.context, s.state]));
      const unheard = held.filter((s) => heard.get(s.context) !== s.state);
      for (const status of unheard) {
        const event: WorkItemEvent = {
          key: `gitea:catch-up:${head}:${status.context}:${status.state}`,
          source: 'gitea',
          type: `gitea.status.${status.state}`,
          summary: `status ${status.context}: ${status.state} at ${head} (read from Gitea by the catch-up job: its delivery was missed)`,
          ci: status,
        };
        await handle.signal(eventSignal, event);
        into.statuses.push(`${ticket} ${status.context} ${status.state}`);
      }
      // A block because CI was silent lifts once CI has spoken: the retry finds the verdict.
      const blockedAt = state.blocked?.kind === 'ci' ? state.blocked.at : undefined;
      // What the item holds once it has heard them, kept by the machine's own rule.
      const heardAll = { ...state };
      for (const status of unheard) recordCiStatus(heardAll, status);
      if (
        blockedAt !== undefined &&
        unheard.length > 0 &&
        ciVerdict(heardAll, required) !== undefined &&
        (await overrideApplied(
          handle,
          'retry',
          'CI reported (read from Gitea by the catch-up job)',
          `gitea:reconcile-ci:${ticket}:${blockedAt}`,
        ))
      )
        into.retried.push(ticket);
    }
  }

  return {
    async reconcileCi(): Promise<CiCatchUpResult> {
      const outcome: CiCatchUpResult = { statuses: [], retried: [], skipped: [], failed: [] };
      for (const [project, config] of projectsWaitingForCi(deps.config)) {
        if (!deps.gitea) {
          outcome.skipped.push(`${project}: the Gitea API is not configured`);
          continue;
        }
        const gitea = deps.gitea;
        await catchUpProject('gitea', project, outcome.failed, () => catchUp(gitea, project, config, outcome));
      }
      return outcome;
    },
  };
}
