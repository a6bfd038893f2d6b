// Keeps the trackers informed.
// Plane: a comment for every stage change and block (idempotent through external_id, so a
// retried activity never comments twice), and the work item moved to the project's started /
// completed state, matched by state group, never by name.
// Gitea: the pull request opened when review starts, a commit status per gate on the branch
// head, and the findings of a failed gate commented on the pull request.
import { ApplicationFailure } from '@temporalio/activity';
import type { AppConfig, ProjectConfig } from '../config';
import type {
  PullRequestRef,
  TrackerNotice,
  TrackerNoticesInput,
  TrackerSyncInput,
  TrackerSyncResult,
} from '../domain';
import type { CommitState, GiteaClient, GiteaPull } from '../tracker/gitea-client';
import { TrackerError } from '../tracker/http';
import type { PlaneClient } from '../tracker/plane-client';
import { needsPerson } from './failures';
import { renderComment, renderFindings, renderPullRequestBody } from './tracker-messages';

export interface TrackerActivityDeps {
  readonly config: AppConfig;
  /** Absent when that tracker's API is not configured for this instance. */
  readonly plane?: PlaneClient;
  readonly gitea?: GiteaClient;
}

/** Stages an item passes before its pull request is opened (at review). */
const BEFORE_REVIEW: ReadonlySet<string> = new Set(['created', 'analysis', 'architecture']);

const STATUS_FOR: Record<NonNullable<TrackerNotice['verdict']>, CommitState> = {
  PASS: 'success',
  FAIL: 'failure',
  REQUEST_CHANGES: 'failure',
  SKIPPED: 'warning',
  APPROVED_BY_PERSON: 'warning',
};

export function createTrackerActivities(deps: TrackerActivityDeps) {
  const tell = async (input: TrackerSyncInput): Promise<TrackerSyncResult> => {
    const project = deps.config.projects[input.project];
    if (!project) throw needsPerson(`project ${input.project} is no longer configured`);
    try {
      const plane = await tellPlane(deps, project, input);
      const gitea = await tellGitea(deps, project, input);
      return { summary: `plane: ${plane}; gitea: ${gitea.summary}`, pullRequest: gitea.pullRequest };
    } catch (err) {
      if (err instanceof TrackerError && err.personMustFix) {
        throw needsPerson(`tracker: ${err.message}`);
      }
      throw err;
    }
  };
  return {
    async syncTracker(input: TrackerSyncInput): Promise<TrackerSyncResult> {
      return tell(input);
    },
    /**
     * In order. A failure stops there; the activity's retry sends the batch again (each notice
     * is idempotent: Plane comments by external_id, Gitea statuses and the PR by their keys). A
     * final failure says how many were delivered before it (details[0].delivered), so the
     * workflow keeps only the rest, the failing notice first.
     */
    async syncTrackerNotices(input: TrackerNoticesInput): Promise<TrackerSyncResult> {
      const { notices, ...item } = input;
      const told: string[] = [];
      let pullRequest: PullRequestRef | undefined;
      for (const [delivered, notice] of notices.entries()) {
        try {
          const result = await tell({ ...item, notice });
          told.push(`#${notice.seq} ${result.summary}`);
          pullRequest = result.pullRequest ?? pullRequest;
        } catch (err) {
          throw withDelivered(err, delivered);
        }
      }
      // An absent pull request is left out of the result's JSON, as absent fields are.
      return { summary: told.join(' | '), pullRequest };
    },
  };
}

/** The same failure (type, message, retryability), saying how many notices went out before it. */
function withDelivered(err: unknown, delivered: number): ApplicationFailure {
  const known = err instanceof ApplicationFailure ? err : undefined;
  return ApplicationFailure.create({
    type: known?.type ?? (err instanceof Error ? err.name : 'Error'),
    message: err instanceof Error ? err.message : String(err),
    nonRetryable: known?.nonRetryable ?? false,
    details: [{ delivered }],
  });
}

async function tellPlane(deps: TrackerActivityDeps, project: ProjectConfig, input: TrackerSyncInput): Promise<string> {
  if (!project.plane) return 'no Plane project configured';
  if (!deps.plane) return 'Plane API not configured (ORCH_PLANE_API_URL, ORCH_PLANE_API_KEY, ORCH_PLANE_WORKSPACE)';
  if (input.notice.kind === 'gate') return 'gate results are reported on the code host';
  const item = await deps.plane.workItemByIdentifier(input.ticket);
  const done: string[] = [];
  const result = await deps.plane.comment(
    project.plane.projectId,
    item.id,
    renderComment(input),
    `orchestrator:${input.ticket}:${input.notice.seq}`,
  );
  done.push(result === 'created' ? 'commented' : 'comment already there');
  const group =
    input.notice.kind === 'stage' && input.notice.previousStage === 'created'
      ? 'started'
      : input.notice.kind === 'done'
        ? 'completed'
        : undefined;
  if (group) {
    const state = (await deps.plane.states(project.plane.projectId)).find((s) => s.group === group);
    if (!state)
      throw new TrackerError(`Plane project ${project.plane.projectId} has no state in group ${group}`, 404, true);
    await deps.plane.setState(project.plane.projectId, item.id, state.id);
    done.push(`moved to ${state.name} (${group})`);
  }
  return done.join(', ');
}

async function tellGitea(
  deps: TrackerActivityDeps,
  project: ProjectConfig,
  input: TrackerSyncInput,
): Promise<{ summary: string; pullRequest?: PullRequestRef }> {
  if (!project.gitea) return { summary: 'no Gitea repository configured' };
  if (!deps.gitea) return { summary: 'Gitea API not configured (ORCH_GITEA_API_URL, ORCH_GITEA_TOKEN)' };
  const told = await tellGiteaRepo(deps.gitea, project as GiteaProject, input);
  return typeof told === 'string' ? { summary: told } : told;
}

type GiteaProject = ProjectConfig & { gitea: NonNullable<ProjectConfig['gitea']> };

/** The pull request as the item records it: its number and page. */
function pullRef(gitea: GiteaClient, repo: string, pr: GiteaPull): PullRequestRef {
  return { number: pr.number, url: pr.html_url ?? `${gitea.webUrl}/${repo}/pulls/${pr.number}` };
}

async function tellGiteaRepo(
  gitea: GiteaClient,
  project: GiteaProject,
  input: TrackerSyncInput,
): Promise<string | { summary: string; pullRequest: PullRequestRef }> {
  const repo = project.gitea.repository;
  const notice = input.notice;
  const body = () =>
    renderPullRequestBody(
      input,
      `${gitea.webUrl}/${repo}/src/branch/${input.branch.split('/').map(encodeURIComponent).join('/')}/docs/work-items/${input.ticket}`,
    );
  if (notice.kind === 'stage' && notice.stage === 'review') {
    const pr = await gitea.ensurePullRequest(
      repo,
      input.branch,
      project.defaultBranch,
      `${input.ticket}: ${input.title}`,
      body(),
    );
    // A reused PR (the item came back to review) gets the current description too.
    await gitea.updatePullRequestBody(repo, pr.number, body());
    return { summary: `pull request #${pr.number}`, pullRequest: pullRef(gitea, repo, pr) };
  }
  if (notice.kind !== 'gate') {
    // No PR before the first review: nothing to look for on the way there.
    if (BEFORE_REVIEW.has(notice.stage)) return 'nothing to report';
    const pr = await gitea.findPullRequest(repo, input.branch, project.defaultBranch);
    if (!pr) return 'no pull request yet';
    await gitea.updatePullRequestBody(repo, pr.number, body());
    return {
      summary: `pull request #${pr.number} updated (${notice.kind} at ${notice.stage})`,
      pullRequest: pullRef(gitea, repo, pr),
    };
  }
  if (notice.kind !== 'gate' || !notice.gate || !notice.verdict) return 'nothing to report';
  const sha = await gitea.branchHead(repo, input.branch);
  if (!sha) return `branch ${input.branch} is not on Gitea yet; no status set`;
  const failed = notice.verdict === 'FAIL' || notice.verdict === 'REQUEST_CHANGES';
  const description = failed ? `${notice.verdict}: ${notice.findings?.[0] ?? 'see the findings'}` : notice.verdict;
  await gitea.setStatus(repo, sha, STATUS_FOR[notice.verdict], `orchestrator/${notice.gate}`, description);
  if (!failed) return `status ${STATUS_FOR[notice.verdict]} on ${sha.slice(0, 12)}`;
  const pr = await gitea.findPullRequest(repo, input.branch, project.defaultBranch);
  if (pr) await gitea.comment(repo, pr.number, renderFindings(input));
  return `status failure on ${sha.slice(0, 12)}${pr ? `, findings on PR #${pr.number}` : ''}`;
}
