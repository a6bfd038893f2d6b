// Tracker notices leaving the workflow: one by one before each step (histories before
// `tracker-courier`), or batched beside the running work by the courier.
import type { TrackerNotice, WorkItemActivities, WorkItemMachine, WorkItemState } from '../domain';
import { blockFromActivityError, deliveredBefore } from './activity-errors';

/** Notices per courier activity: a backlog after a long tracker outage goes in a few calls. */
const NOTICE_BATCH = 20;

export type NoticeActivities = Pick<WorkItemActivities, 'syncTracker' | 'syncTrackerNotices'>;

export class TrackerCourier {
  /** The delivery running beside the work, while it runs. */
  private running: Promise<void> | undefined;
  /** Why the last batched delivery failed, for the main loop to block on between steps. */
  failure: string | undefined;

  constructor(
    private readonly state: WorkItemState,
    private readonly machine: WorkItemMachine,
    private readonly calls: NoticeActivities,
    /** false: the project has no tracker, so notices are dropped without an activity. */
    private readonly trackers: boolean | undefined,
  ) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * The running delivery, to wait for. Not an async function: awaiting it must take exactly the
   * ticks awaiting the delivery itself took, so the commands of a replayed history keep their order.
   */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Delivers pending notices in order; a failure blocks the item (kind `tracker`) while it is open. */
  async deliverOneByOne(): Promise<void> {
    const { state } = this;
    while (state.notices.length > 0) {
      const notice = state.notices[0] as TrackerNotice;
      try {
        const told = await this.calls.syncTracker({ ...this.item(), notice });
        this.machine.recordPullRequest(told?.pullRequest);
      } catch (err) {
        this.machine.noticeFailed(blockFromActivityError(err, 'syncTracker').reason);
        return;
      }
      state.notices.shift();
    }
  }

  /**
   * Starts delivering the pending notices beside the running work, if not already: one activity
   * per batch, in order. Started from the main loop only, so it runs in the workflow's root scope
   * (a rollback cancelling the stage does not cancel it). A failure is left for the main loop,
   * which blocks the item between steps. An item without trackers needs no activity at all.
   */
  start(): void {
    if (this.running) return;
    const { state } = this;
    this.running = (async () => {
      while (this.machine.noticesDeliverable() && this.failure === undefined) {
        if (this.trackers === false) {
          state.notices.splice(0);
          break;
        }
        const batch = state.notices.slice(0, NOTICE_BATCH);
        try {
          const told = await this.calls.syncTrackerNotices({ ...this.item(), notices: batch });
          this.machine.recordPullRequest(told?.pullRequest);
        } catch (err) {
          // What went out before the failure is not sent again; the failing notice leads.
          state.notices.splice(0, Math.min(deliveredBefore(err), batch.length));
          this.failure = blockFromActivityError(err, 'syncTrackerNotices').reason;
          break;
        }
        state.notices.splice(0, batch.length);
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** What a tracker notice is about: the item as the tracker knows it. */
  private item() {
    const { state } = this;
    return { project: state.project, ticket: state.ticket, title: state.title, branch: state.branch };
  }
}
