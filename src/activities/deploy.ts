// The deploy steps (deploy-staging and deploy stages): run the project's deploy command on the
// merged default branch, poll the environment's health URL until it answers 2xx or the timeout,
// and write the deploy log (15-staging-log.md with staging_status, 14-deploy-log.md with
// deploy_status) onto the item's branch. The artifacts gate then reads that verdict: FAILED sends
// the item back to development with the log as the finding.
import { Context, log } from '@temporalio/activity';
import YAML from 'yaml';
import type { AppConfig, ProjectConfig } from '../config';
import { ARTIFACT_CONTRACT, workItemDocsDir, type StepInput, type StepResult, type VerdictSpec } from '../domain';
import { onDefaultBranchCheckout } from './build-checkout';
import { needsPerson } from './failures';
import { waitHealthy } from './health';
import { runProjectCommand } from './project-command';

interface Environment {
  readonly name: 'staging' | 'production';
  readonly command: (p: ProjectConfig) => string | undefined;
  readonly healthUrl: (p: ProjectConfig) => string | undefined;
  readonly commandKey: string;
  readonly report: { readonly path: string; readonly verdict: VerdictSpec };
}

const STAGING: Environment = {
  name: 'staging',
  command: (p) => p.commands.deployStaging,
  healthUrl: (p) => p.health.stagingUrl,
  commandKey: 'commands.deployStaging',
  report: reportSpec('deploy-staging'),
};

const PRODUCTION: Environment = {
  name: 'production',
  command: (p) => p.commands.deployProduction,
  healthUrl: (p) => p.health.productionUrl,
  commandKey: 'commands.deployProduction',
  report: reportSpec('deploy'),
};

function reportSpec(stage: 'deploy-staging' | 'deploy') {
  const spec = ARTIFACT_CONTRACT[stage][0];
  if (!spec?.verdict) throw new Error(`the artifact contract of ${stage} has no deploy log`);
  return { path: spec.path, verdict: spec.verdict };
}

export function createDeployActivities(config: AppConfig) {
  return {
    deployStaging: (input: StepInput) => deploy(config, input, STAGING),
    deployProduction: (input: StepInput) => deploy(config, input, PRODUCTION),
  };
}

async function deploy(config: AppConfig, input: StepInput, target: Environment): Promise<StepResult> {
  const project = config.projects[input.project];
  if (!project) throw needsPerson(`project ${input.project} is not configured`);
  const command = target.command(project);
  const healthUrl = target.healthUrl(project);
  if (!command || !healthUrl)
    throw needsPerson(
      `no ${target.name} deploy is configured for ${input.project}: set ${target.commandKey} and its health URL`,
    );
  const branch = input.branch;
  if (!branch) throw needsPerson(`the work item has no branch to record the ${target.name} deploy on`);

  return onDefaultBranchCheckout(
    config,
    input.project,
    project,
    { environment: target.name },
    async ({ url, mirror, dir, revision }) => {
      const run = await runProjectCommand(command, dir, {
        signal: Context.current().cancellationSignal,
        env: { ORCH_REVISION: revision, ORCH_ENVIRONMENT: target.name },
      });
      const health =
        run.exitCode === 0
          ? await waitHealthy(healthUrl, project.health.timeoutMs, project.health.intervalMs)
          : { ok: false, detail: 'not checked: the deploy command failed' };
      const ok = run.exitCode === 0 && health.ok;
      const status = ok ? target.report.verdict.pass : target.report.verdict.fail;
      const file = `${workItemDocsDir(input.ticket)}/${target.report.path}`;
      const report = renderLog({
        field: target.report.verdict.field,
        status,
        environment: target.name,
        revision,
        command,
        exitCode: run.exitCode,
        timedOut: run.timedOut,
        healthUrl,
        health: health.detail,
        tail: run.tail,
      });
      await mirror.commitFile(url, branch, file, report, `chore(${input.ticket}): ${target.name} deploy (${status})`);
      log.info('deployed', { ticket: input.ticket, environment: target.name, revision, status });
      return { costUsd: 0, summary: `${target.name} deploy of ${revision.slice(0, 12)}: ${status} (${health.detail})` };
    },
  );
}

interface LogInput {
  readonly field: string;
  readonly status: string;
  readonly environment: string;
  readonly revision: string;
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly timedOut: boolean;
  readonly healthUrl: string;
  readonly health: string;
  readonly tail: string;
}

function renderLog(l: LogInput): string {
  const frontmatter = {
    [l.field]: l.status,
    environment: l.environment,
    revision: l.revision,
    command_exit: l.timedOut ? 'timeout' : (l.exitCode ?? null),
    health_url: l.healthUrl,
    health: l.health,
    at: new Date().toISOString(),
  };
  const fence = '`'.repeat(Math.max(3, ...[...l.tail.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `---\n${YAML.stringify(frontmatter)}---\n\n# ${l.environment} deploy: ${l.status}\n\nRevision \`${l.revision}\`, command \`${l.command}\`, health: ${l.health}.\n\nLast lines of the deploy command:\n\n${fence}text\n${l.tail}\n${fence}\n`;
}
