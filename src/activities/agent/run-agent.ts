// The runAgent activity: one stage's agent (the Claude Code CLI with the role prompt) working in
// the item's checkout, then its work committed and pushed. It heartbeats {sessionId, lastEvent,
// pid} on a timer because the CLI can be silent for minutes; on cancellation it kills the CLI's
// process group; a retry after a crash kills what the crashed attempt left and resumes its session.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Context, activityInfo, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { AppConfig, ProjectConfig } from '../../config';
import { ARTIFACT_CONTRACT, ROLE_PERMISSIONS, itemBranch, stageCommitMessage, workItemDocsDir, type StepInput, type StepResult } from '../../domain';
import { loadExeca } from '../../util/execa';
import type { Semaphore } from '../../util/semaphore';
import { FAILURE_BUDGET, FAILURE_NEEDS_PERSON } from '../../workflows/messages';
import { repositoryUrl } from '../gates';
import { GitError, redactUrls } from '../git/repository';
import { Workspace } from '../workspace/workspace';
import { classifyRun, credentialsRejected, type AgentOutcome } from './classify';
import { agentEnvironment, claudeArgs, claudeBinary, hasModelCredentials } from './command';
import { AGENT_SESSION_VAR, processesOfSession, stopAgentProcesses } from './process-group';
import type { ProjectSpend } from './project-spend';
import { buildTaskPrompt, loadRolePrompt } from './prompt';
import { newStreamState, readStreamLine, type StreamState } from './stream';

export interface AgentRunnerDeps {
  readonly config: AppConfig;
  readonly slots: Semaphore;
  readonly spend?: ProjectSpend;
}

/** What an attempt heartbeats; the next attempt reads it back after a crash. */
export interface AgentHeartbeat {
  readonly phase: 'waiting' | 'preparing' | 'running' | 'committing';
  readonly sessionId?: string;
  readonly initSeen?: boolean;
  readonly lastEvent?: string;
  readonly pid?: number;
  readonly host?: string;
  /** Set once the CLI finished successfully: a retry only commits, it does not run it again. */
  readonly finishedCostUsd?: number;
}

const RESUME_PROMPT =
  'Your previous run of this task was interrupted because the worker running it stopped. ' +
  'Check what is already in the workspace, then continue where you left off and finish the task.';

export function createAgentActivities(deps: AgentRunnerDeps) {
  return {
    runAgent: (input: StepInput): Promise<StepResult> => runAgent(deps, input),
  };
}

async function runAgent(deps: AgentRunnerDeps, input: StepInput): Promise<StepResult> {
  const { config } = deps;
  const project = config.projects[input.project];
  if (!project) throw needsPerson(`project ${input.project} is not configured`);
  if (!input.role) throw needsPerson(`stage ${input.stage} has no agent role`);
  if (!hasModelCredentials(config.env)) {
    throw needsPerson('no model credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) for the worker, then retry');
  }
  const role = input.role;
  const ctx = Context.current();
  const previous = activityInfo().heartbeatDetails as AgentHeartbeat | undefined;
  await killLeftovers(runSessionId());

  let beat: AgentHeartbeat = { phase: 'waiting', sessionId: previous?.sessionId, initSeen: previous?.initSeen };
  const timer = setInterval(() => heartbeat(beat), heartbeatEveryMs());
  heartbeat(beat);
  const release = await deps.slots.acquire(ctx.cancellationSignal).catch((err: unknown) => {
    clearInterval(timer);
    throw ctx.cancellationSignal.aborted ? new CancelledFailure('agent run cancelled while waiting for a slot') : err;
  });
  try {
    const maxBudgetUsd = await budgetCap(deps, input, project);
    beat = { ...beat, phase: 'preparing' };
    const branch = input.branch ?? itemBranch(input.ticket, input.title);
    const workspace = await prepareWorkspace(config, input, project, branch);

    let sessionId: string;
    let costUsd: number;
    if (previous?.finishedCostUsd !== undefined && previous.sessionId) {
      // The CLI finished before the worker stopped; its work is in the checkout.
      sessionId = previous.sessionId;
      costUsd = previous.finishedCostUsd;
    } else {
      // Every attempt of this activity uses the same session: a retry after a crash finds the
      // session the CLI stored and resumes it, without needing a heartbeat that may never
      // have reached the server.
      sessionId = runSessionId();
      const resume = sessionStored(agentHome(config), sessionId);
      const prompt = resume
        ? RESUME_PROMPT
        : buildTaskPrompt({
            ticket: input.ticket,
            title: input.title,
            description: input.description,
            stage: input.stage,
            role,
            attempt: input.attempt,
            workspace: workspace.dir,
            branch,
            earlierArtifacts: workspace.listFiles(workItemDocsDir(input.ticket)),
            findings: input.findings,
          });
      const rolePrompt = loadRolePrompt(role, promptsDir(config, project)).text;
      const run = await runCli({
        config,
        sessionId,
        cwd: workspace.dir,
        args: claudeArgs({
          rolePrompt,
          session: { mode: resume ? 'resume' : 'new', id: sessionId },
          permissions: ROLE_PERMISSIONS[role],
          model: project.agents.model ?? config.env.ORCH_AGENT_MODEL,
          maxBudgetUsd,
          maxTurns: config.env.ORCH_AGENT_MAX_TURNS,
        }),
        prompt,
        signal: ctx.cancellationSignal,
        onProgress: (stream, pid) => {
          beat = { phase: 'running', sessionId, initSeen: stream.initSeen, lastEvent: stream.lastEvent, pid, host: os.hostname() };
          // Throttled by the SDK; the pid and the session must reach the server early, since a
          // crash right after the start is exactly when the next attempt needs them.
          heartbeat(beat);
        },
      });
      costUsd = run.stream.result?.costUsd ?? 0;
      log.info('agent run ended', { ticket: input.ticket, stage: input.stage, role, outcome: run.outcome.kind, sessionId, costUsd, turns: run.stream.result?.numTurns, toolUses: run.stream.toolUses });
      const stopped = onFailure(run.outcome, costUsd, sessionId);
      if (stopped) return stopped;
      beat = { phase: 'committing', sessionId, initSeen: true, finishedCostUsd: costUsd };
      heartbeat(beat);
    }

    const { commit, head } = await workspace.commitAndPush(stageCommitMessage(input.ticket, input.stage, role, input.attempt));
    const missing = missingArtifacts(workspace, input);
    return {
      costUsd,
      sessionId,
      summary: [
        `${role} finished on ${branch}${commit ? ` (commit ${commit.slice(0, 12)})` : ' with no changes to commit'}; head ${head.slice(0, 12)}`,
        ...(missing.length > 0 ? [`artifacts missing (the artifacts gate will send the stage back): ${missing.join(', ')}`] : []),
      ].join('; '),
    };
  } finally {
    clearInterval(timer);
    release();
  }
}

/** Turns a non-success outcome into a stop (budget: cost counts) or a thrown failure. */
function onFailure(outcome: AgentOutcome, costUsd: number, sessionId: string): StepResult | undefined {
  switch (outcome.kind) {
    case 'success':
      return undefined;
    case 'budget':
      return { costUsd, sessionId, stop: { kind: 'budget', reason: outcome.message } };
    case 'binary-missing':
    case 'credentials':
      throw needsPerson(outcome.message);
    case 'max-turns':
    case 'crash':
      // Retried by Temporal; the retry resumes this session (from the heartbeat).
      throw ApplicationFailure.create({ type: 'AgentRunFailed', message: outcome.message });
  }
}

interface CliRun {
  readonly config: AppConfig;
  readonly sessionId: string;
  readonly cwd: string;
  readonly args: string[];
  readonly prompt: string;
  readonly signal: AbortSignal;
  onProgress(stream: StreamState, pid: number): void;
}

async function runCli(run: CliRun): Promise<{ stream: StreamState; outcome: AgentOutcome }> {
  const { execa } = await loadExeca();
  const home = agentHome(run.config);
  fs.mkdirSync(home, { recursive: true });
  const stream = newStreamState();
  const child = execa(claudeBinary(run.config.env), run.args, {
    cwd: run.cwd,
    env: { ...agentEnvironment(run.config.env, home), [AGENT_SESSION_VAR]: run.sessionId },
    extendEnv: false,
    // Its own process group: killing -pid reaches every process the agent started.
    detached: true,
    input: run.prompt,
    reject: false,
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: 1024 * 1024 },
  });
  const pid = child.pid;
  let killing: Promise<void> | undefined;
  const stop = (): void => {
    killing ??= stopAgentProcesses(run.sessionId, pid);
  };
  if (pid !== undefined) run.onProgress(stream, pid);
  run.signal.addEventListener('abort', stop, { once: true });
  if (run.signal.aborted) stop();
  try {
    if (child.stdout) {
      for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
        readStreamLine(stream, line);
        if (pid !== undefined) run.onProgress(stream, pid);
        // The CLI retries a rejected key for minutes; nothing will change by waiting.
        if (credentialsRejected(stream)) stop();
      }
    }
    const result = await child;
    await killing;
    if (run.signal.aborted) throw new CancelledFailure('agent run cancelled; its process group was killed');
    const spawnErrorCode = (result as { code?: string }).code;
    return {
      stream,
      outcome: classifyRun({
        spawnErrorCode: result.failed && result.exitCode === undefined ? spawnErrorCode : undefined,
        exitCode: result.exitCode,
        signal: result.signal,
        stderrTail: redactUrls(String(result.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('Warning:')).slice(-3).join(' | ')),
        stream,
      }),
    };
  } finally {
    run.signal.removeEventListener('abort', stop);
    // Whatever happened, nothing the agent started outlives its run.
    await (killing ?? stopAgentProcesses(run.sessionId, pid));
  }
}

/**
 * The session id of this scheduled activity, the same for all its attempts: a name-based UUID
 * of the workflow run and the activity id (a new stage visit is a new activity, a new session).
 */
export function runSessionId(): string {
  const info = activityInfo();
  const run = info.workflowExecution;
  return nameBasedUuid(`${run?.workflowId ?? info.workflowType}/${run?.runId ?? ''}/${info.activityId}`);
}

export function nameBasedUuid(name: string): string {
  const hex = crypto.createHash('sha256').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A CLI an earlier attempt left running (its worker crashed) would race the resumed session for
 * the checkout: it and everything it started are stopped first.
 */
async function killLeftovers(sessionId: string): Promise<void> {
  const pids = processesOfSession(sessionId);
  if (pids.length === 0) return;
  log.warn('stopping agent processes an earlier attempt left behind', { pids, sessionId });
  await stopAgentProcesses(sessionId);
}

/** The item's remaining budget, capped by what the project has left this month. */
async function budgetCap(deps: AgentRunnerDeps, input: StepInput, project: ProjectConfig): Promise<number> {
  let cap = input.remainingBudgetUsd;
  if (project.monthlyBudgetUsd !== undefined && deps.spend) {
    const spent = await deps.spend.spentUsd(input.project);
    const left = project.monthlyBudgetUsd - spent;
    if (left <= 0) {
      throw ApplicationFailure.create({
        type: FAILURE_BUDGET,
        nonRetryable: true,
        message: `project ${input.project} has spent $${spent.toFixed(2)} of its monthly budget of $${project.monthlyBudgetUsd.toFixed(2)}; raise monthlyBudgetUsd in projects.yaml and retry`,
      });
    }
    cap = Math.min(cap, left);
  }
  if (cap <= 0) throw ApplicationFailure.create({ type: FAILURE_BUDGET, nonRetryable: true, message: 'budget exhausted: nothing left for this agent run' });
  return cap;
}

async function prepareWorkspace(config: AppConfig, input: StepInput, project: ProjectConfig, branch: string): Promise<Workspace> {
  try {
    return await Workspace.prepare({
      dataDir: config.dataDir,
      project: input.project,
      ticket: input.ticket,
      repositoryUrl: repositoryUrl(config, project),
      branch,
      defaultBranch: project.defaultBranch,
    });
  } catch (err) {
    // An unreachable repository or a branch that cannot be rebased will not fix itself.
    if (err instanceof GitError && /clone|brought up to date/.test(err.message)) throw needsPerson(`workspace of ${input.ticket}: ${err.message}`);
    throw err;
  }
}

function missingArtifacts(workspace: Workspace, input: StepInput): string[] {
  const docs = workItemDocsDir(input.ticket);
  return ARTIFACT_CONTRACT[input.stage]
    .map((spec) => `${docs}/${spec.path}`)
    .filter((file) => (file.endsWith('/') ? workspace.listFiles(file).length === 0 : !fs.existsSync(path.join(workspace.dir, file))));
}

/** The CLI's HOME: per worker machine, under the data directory, so sessions survive restarts. */
export function agentHome(config: AppConfig): string {
  return path.join(config.dataDir, 'agent-home');
}

/** Whether the CLI stored this session on this machine (it keeps one JSONL file per session). */
function sessionStored(home: string, sessionId: string): boolean {
  const projects = path.join(home, '.claude', 'projects');
  if (!fs.existsSync(projects)) return false;
  return fs.readdirSync(projects).some((dir) => fs.existsSync(path.join(projects, dir, `${sessionId}.jsonl`)));
}

function promptsDir(config: AppConfig, project: ProjectConfig): string | undefined {
  return project.agents.promptsDir ? path.resolve(path.dirname(config.projectsFile), project.agents.promptsDir) : undefined;
}

function heartbeatEveryMs(): number {
  const timeout = activityInfo().heartbeatTimeoutMs;
  return timeout ? Math.max(100, Math.min(10_000, Math.floor(timeout / 3))) : 10_000;
}

function needsPerson(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_NEEDS_PERSON, nonRetryable: true, message });
}
