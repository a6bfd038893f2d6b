// The runAgent activity: one stage's agent (the Claude Code CLI with the role prompt) working in
// the item's checkout, then its work committed and pushed. It heartbeats {sessionId, lastEvent,
// pid} on a timer because the CLI can be silent for minutes; on cancellation it kills the CLI's
// process group; a retry after a crash kills what the crashed attempt left and resumes its session.
import fs from 'node:fs';
import path from 'node:path';
import { Context, activityInfo, heartbeat, log } from '@temporalio/activity';
import { requireSandbox } from '../command-sandbox';
import { agentRuns, sandboxDenied } from '../metrics';
import { heartbeatEveryMs } from '../heartbeat-interval';
import { hostId, repositoryUrl, type AppConfig, type ProjectConfig } from '../../config';
import {
  ARTIFACT_CONTRACT,
  ROLE_PERMISSIONS,
  itemBranch,
  stageCommitMessage,
  workItemDocsDir,
  type StepInput,
  type StepResult,
} from '../../domain';
import { budgetExhausted, needsPerson } from '../failures';
import { GitError } from '../git/repository';
import { Workspace, agentHomeDir } from '../workspace/workspace';
import { purgeSecretHistory } from '../workspace/secret-history';
import { GATE_REGISTRY } from '../gates/registry';
import { runCli } from './cli-process';
import { claudeArgs, hasModelCredentials } from './command';
import { processesOfSession, stopAgentProcesses } from './process-group';
import type { ProjectSpend } from './project-spend';
import { buildTaskPrompt, loadRolePrompt } from './prompt';
import { runAttempt, runSessionId, sessionStored } from './session';
import { incidentsDir, readIncidents, recordFinished } from './incidents';
import { onRunEnd } from './run-end';

export interface AgentRunnerDeps {
  readonly config: AppConfig;
  readonly spend?: ProjectSpend;
}

/** What an attempt heartbeats (shown to operators); the next attempt reads `finishedCostUsd`. */
export interface AgentHeartbeat {
  readonly phase: 'preparing' | 'running' | 'stalled' | 'committing';
  readonly sessionId: string;
  readonly lastEvent?: string;
  readonly pid?: number;
  readonly host?: string;
  /** `bwrap`, or `off` when this worker runs agents unsandboxed (ORCH_AGENT_SANDBOX=off). */
  readonly sandbox?: 'bwrap' | 'off';
  /** When the newest stream event arrived (ISO), model turns and tool calls so far. */
  readonly lastEventAt?: string;
  readonly turns?: number;
  readonly toolUses?: number;
  /** Earlier stalls of this run, the current run of identical tool calls, turns without a file change. */
  readonly stalls?: number;
  readonly repeats?: number;
  readonly turnsWithoutChange?: number;
  /** The last stream events and the files changed in the checkout: what a run lost with its host leaves behind. */
  readonly recentEvents?: readonly string[];
  readonly changedFiles?: readonly string[];
  /** Set once the CLI finished successfully: a retry only commits, it does not run it again. */
  readonly finishedCostUsd?: number;
}

const RESUME_PROMPT =
  'Your previous run of this task was interrupted because the worker running it stopped. ' +
  'Check what is already in the workspace, then continue where you left off and finish the task.';

function stalledResumePrompt(note: string): string {
  return (
    `Your previous run of this task was stopped because it made no progress (${note}). ` +
    'Check what is already in the workspace, then continue where you left off and finish the task; do not wait on anything that may hang.'
  );
}

/** Wall time of a role's run when agents.maxMinutes does not name it. */
const DEFAULT_MAX_MINUTES = 50;

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
    throw needsPerson(
      'no model credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) for the worker, then retry',
    );
  }
  const role = input.role;
  const sandboxMode = config.env.ORCH_AGENT_SANDBOX;
  await requireSandbox(config);
  const ctx = Context.current();
  const previous = activityInfo().heartbeatDetails as AgentHeartbeat | undefined;
  // Every attempt of this run uses the same session: a retry after a crash finds the session the
  // CLI stored and resumes it, without needing a heartbeat that may never have reached the server.
  const sessionId = runSessionId(input.runSession);
  await killLeftovers(sessionId);

  // A run waits for capacity in Temporal's queue (the host claim), never here (ADR-0021).
  let beat: AgentHeartbeat = { phase: 'preparing', sessionId, sandbox: sandboxMode, host: hostId(config) };
  const timer = setInterval(() => heartbeat(beat), heartbeatEveryMs(10_000));
  heartbeat(beat);
  let runLog: Record<string, unknown> | undefined;
  try {
    const maxBudgetUsd = await budgetCap(deps, input, project);
    const branch = input.branch ?? itemBranch(input.ticket, input.title);
    const workspace = await prepareWorkspace(config, input, project, branch);
    // Each run's start and end, with where it ran: an operator (and the fleet test) can see that
    // no two runs ever shared a checkout.
    runLog = {
      ticket: input.ticket,
      stage: input.stage,
      role,
      host: hostId(config),
      workspace: workspace.dir,
      sessionId,
      attempt: runAttempt(input.priorAttempts),
    };
    log.info('agent run started', runLog);

    let costUsd: number;
    const finishedCostUsd =
      previous?.finishedCostUsd ?? readIncidents(incidentsDirOf(config, input), sessionId).finishedCostUsd;
    if (finishedCostUsd !== undefined) {
      // The CLI finished before the worker stopped or the commit failed; its work is in the checkout.
      costUsd = finishedCostUsd;
    } else {
      const home = agentHomeDir(config.dataDir, input.project, input.ticket);
      const resume = sessionStored(home, sessionId);
      const incidents = readIncidents(incidentsDirOf(config, input), sessionId);
      const prompt = resume
        ? incidents.notes.length > 0
          ? stalledResumePrompt(incidents.notes.at(-1) as string)
          : RESUME_PROMPT
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
            lostRun: input.lostRun,
          });
      const rolePrompt = loadRolePrompt(role, promptsDir(config, project)).text;
      agentRuns.inc({ project: input.project, sandbox: sandboxMode });
      if (sandboxMode === 'off')
        log.warn(
          "agent runs UNSANDBOXED (ORCH_AGENT_SANDBOX=off): it can read the worker's secrets and every checkout",
          { ticket: input.ticket, role },
        );
      const run = await runCli({
        config,
        home,
        sandbox:
          sandboxMode === 'bwrap'
            ? {
                settings: project.agents.sandbox,
                onDenied: (denied) => {
                  sandboxDenied.inc({ project: input.project });
                  // The context's own logger: this runs in the proxy's socket callbacks, outside
                  // the activity's async context, where the module-level `log` throws.
                  ctx.log.warn('agent sandbox refused a connection', {
                    ticket: input.ticket,
                    role,
                    destination: denied.destination,
                    method: denied.method,
                  });
                },
              }
            : undefined,
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
        role,
        maxMinutes: project.agents.maxMinutes[role] ?? DEFAULT_MAX_MINUTES,
        watch: {
          stallMs: project.agents.stallMs,
          maxRepeats: project.agents.maxRepeats,
          maxTurnsWithoutChange: project.agents.maxTurnsWithoutChange,
        },
        onProgress: (stream, pid, watch) => {
          beat = {
            phase: 'running',
            sessionId,
            lastEvent: stream.lastEvent,
            lastEventAt: new Date(watch.lastEventTime()).toISOString(),
            turns: stream.turns,
            toolUses: stream.toolUses,
            stalls: incidents.stalls,
            repeats: stream.repeats,
            turnsWithoutChange: watch.turnsWithoutChange,
            recentEvents: stream.recentEvents.slice(-5),
            changedFiles: watch.changedFiles.slice(0, 30),
            pid,
            host: hostId(config),
            sandbox: sandboxMode,
          };
          heartbeat(beat);
        },
      });
      costUsd = run.stream.result?.costUsd ?? 0;
      if (run.outcome.kind === 'stall') {
        // What the next attempt (and the Web UI's pending activity) sees of this one.
        beat = { ...beat, phase: 'stalled', lastEvent: run.outcome.message, stalls: incidents.stalls + 1 };
        heartbeat(beat);
      }
      log.info('agent run ended', {
        ticket: input.ticket,
        stage: input.stage,
        role,
        outcome: run.outcome.kind,
        sessionId,
        costUsd,
        turns: run.stream.turns,
        toolUses: run.stream.toolUses,
      });
      const stopped = onRunEnd(run.outcome, {
        costUsd,
        sessionId,
        role,
        input,
        maxStalls: project.agents.maxStalls,
        incidentsDir: incidentsDirOf(config, input),
        stream: run.stream,
      });
      if (stopped) return stopped;
      recordFinished(incidentsDirOf(config, input), sessionId, costUsd);
      beat = { phase: 'committing', sessionId, sandbox: sandboxMode, finishedCostUsd: costUsd };
      heartbeat(beat);
    }

    const message = stageCommitMessage(input.ticket, input.stage, role, input.attempt);
    const { commit, head: committed } = await workspace.commit(message);
    // Only where the security gate scans this project: elsewhere nothing would ever fail on it.
    const purge =
      GATE_REGISTRY.security?.disabledBecause(config, input.project, project) === undefined
        ? await purgeSecretHistory(workspace, project.defaultBranch, message)
        : { squashed: false };
    if (purge.squashed)
      log.warn('item history squashed to drop a removed secret', { ticket: input.ticket, detail: purge.detail });
    const head = await workspace.push(purge.head ?? committed);
    const missing = missingArtifacts(workspace, input);
    const incidents = readIncidents(incidentsDirOf(config, input), sessionId).notes;
    return {
      costUsd,
      sessionId,
      head,
      ...(incidents.length > 0 ? { incidents } : {}),
      summary: [
        `${role} finished${sandboxMode === 'off' ? ' UNSANDBOXED (ORCH_AGENT_SANDBOX=off)' : ''} on ${branch}${commit ? ` (commit ${commit.slice(0, 12)})` : ' with no changes to commit'}; head ${head.slice(0, 12)}`,
        ...(purge.detail ? [purge.detail] : []),
        ...(missing.length > 0
          ? [`artifacts missing (the artifacts gate will send the stage back): ${missing.join(', ')}`]
          : []),
      ].join('; '),
    };
  } finally {
    clearInterval(timer);
    if (runLog) log.info('agent run finished', runLog);
  }
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
      throw budgetExhausted(
        `project ${input.project} has spent $${spent.toFixed(2)} of its monthly budget of $${project.monthlyBudgetUsd.toFixed(2)}; raise monthlyBudgetUsd in projects.yaml and retry`,
      );
    }
    cap = Math.min(cap, left);
  }
  if (cap <= 0) throw budgetExhausted('budget exhausted: nothing left for this agent run');
  return cap;
}

async function prepareWorkspace(
  config: AppConfig,
  input: StepInput,
  project: ProjectConfig,
  branch: string,
): Promise<Workspace> {
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
    if (err instanceof GitError && /clone|brought up to date/.test(err.message))
      throw needsPerson(`workspace of ${input.ticket}: ${err.message}`);
    throw err;
  }
}

function missingArtifacts(workspace: Workspace, input: StepInput): string[] {
  const docs = workItemDocsDir(input.ticket);
  return ARTIFACT_CONTRACT[input.stage]
    .map((spec) => `${docs}/${spec.path}`)
    .filter((file) =>
      file.endsWith('/') ? workspace.listFiles(file).length === 0 : !fs.existsSync(path.join(workspace.dir, file)),
    );
}

function promptsDir(config: AppConfig, project: ProjectConfig): string | undefined {
  return project.agents.promptsDir
    ? path.resolve(path.dirname(config.projectsFile), project.agents.promptsDir)
    : undefined;
}

function incidentsDirOf(config: AppConfig, input: StepInput): string {
  return incidentsDir(config.dataDir, input.project, input.ticket);
}
