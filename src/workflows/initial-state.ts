import { itemBranch, type WorkItemInput, type WorkItemState } from '../domain';

export function initialState(input: WorkItemInput, at: string): WorkItemState {
  return {
    project: input.project,
    ticket: input.ticket,
    title: input.title,
    description: input.description,
    url: input.url,
    branch: itemBranch(input.ticket, input.title),
    stage: 'created',
    status: 'active',
    attempt: 1,
    reviewRejections: 0,
    gateRetries: 0,
    findings: [],
    history: [{ stage: 'created', enteredAt: at }],
    gateResults: [],
    overrides: [],
    pendingSkips: [],
    events: [],
    seenEventKeys: [],
    duplicateEventsIgnored: 0,
    costUsd: 0,
    budgetUsd: input.budgetUsd,
    sessions: {},
    generation: 0,
    notices: [],
    noticeSeq: 0,
  };
}

/** Fields added after the first release: a state carried from an older run may lack them. */
export function upgradeCarriedState(state: WorkItemState): void {
  state.notices ??= [];
  state.noticeSeq ??= 0;
  state.branch ??= itemBranch(state.ticket, state.title);
}
