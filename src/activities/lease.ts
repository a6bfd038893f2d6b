// Activities around the per-repository merge lease: filing a work item's request with the lease
// workflow (started on first use), and telling the lease whether its holder still runs.
import crypto from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { repositoryUrl, type AppConfig } from '../config';
import type { LeaseFiled, LeaseInput, LeaseTicket } from '../domain';
import { needsPerson } from './failures';
import { leaseAcquireSignal } from '../workflows/lease-messages';
import { redactUrls } from './git/repository';

/** One lease per repository, whichever projects point at it. */
export function leaseWorkflowId(repository: string): string {
  return `merge-lease/${crypto
    .createHash('sha256')
    .update(repository.replace(/\.git$/, '').replace(/\/+$/, ''))
    .digest('hex')
    .slice(0, 16)}`;
}

export function createLeaseActivities(config: AppConfig, client: Client | undefined) {
  const needClient = (): Client => {
    if (!client) throw needsPerson('the merge lease needs a Temporal client in the worker');
    return client;
  };
  return {
    async requestMergeLease(ticket: LeaseTicket): Promise<LeaseFiled> {
      const project = config.projects[ticket.project];
      if (!project) throw needsPerson(`project ${ticket.project} is not configured`);
      if (!project.gates.merge) return {};
      const repository = repositoryUrl(config, project);
      const workflowId = leaseWorkflowId(repository);
      const input: LeaseInput = {
        repository: redactUrls(repository),
        holderCheckMs: config.env.ORCH_MERGE_LEASE_CHECK_MS,
        maxHoldMs: config.env.ORCH_MERGE_LEASE_MAX_HOLD_MS,
      };
      await needClient().workflow.signalWithStart('repositoryLease', {
        workflowId,
        taskQueue: config.env.ORCH_TASK_QUEUE,
        args: [input],
        signal: leaseAcquireSignal,
        signalArgs: [{ holder: ticket.holder, requestId: ticket.requestId, ticket: ticket.ticket }],
        staticSummary: `merge lease of ${input.repository}`,
      });
      return { leaseWorkflowId: workflowId };
    },

    async holderRunning(workflowId: string): Promise<boolean> {
      try {
        return (await needClient().workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
  };
}
