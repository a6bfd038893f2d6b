// `npm run demo`: the whole orchestrator with a SCRIPTED model. A sample ticket walks from created
// to done: the real Claude Code CLI runs each role (sandboxed) in a real checkout of a sample
// repository and makes real tool calls, but the model answering it is the scripted server in
// src/dev/scripted-model, which plays the roles from a script: one REQUEST_CHANGES, and a key the
// developer leaves in the code, which the security gate catches and the developer's next run
// removes. Then the merge under the lease, image freshness, a staging and a production deploy
// of the sample service as local processes with health checks, and the observation window.
// Nothing here talks to Anthropic. With --exit it stops once the item stops moving.
import fs from 'node:fs';
import path from 'node:path';
import { submitWorkItem, workItemState } from '../client/work-items';
import { loadConfig } from '../config';
import { PROJECT_ROOT } from '../config/paths';
import { runGit } from '../activities/git/repository';
import { STAGE_GRAPH, type WorkItemState } from '../domain';
import { installRuntime } from '../temporal/runtime';
import { createLogger } from '../util/logger';
import { exitOnStartupError, onShutdownSignal } from '../util/main';
import { freePort } from '../util/net';
import { createSampleRepository, sampleProjectYaml, stopSampleServices } from './sample-project';
import { pipelineScript } from './scripted-model/pipeline-script';
import { startScriptedModelServer } from './scripted-model/server';
import { startStack } from './stack';

const TICKET = 'DEMO-1';
const PROJECT = 'demo';

async function main(): Promise<void> {
  const exitWhenSettled = process.argv.includes('--exit');
  const root = path.resolve(process.env.ORCH_DEMO_DIR ?? path.join(PROJECT_ROOT, 'data', 'demo'));
  // Each demo starts from nothing: its own server state, repository and workspaces.
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const { origin, seed } = await createSampleRepository(root);
  const [stagingPort, productionPort] = [await freePort(), await freePort()];
  fs.writeFileSync(
    path.join(root, 'projects.yaml'),
    `projects:\n${sampleProjectYaml({ key: PROJECT, ticketPrefix: 'DEMO', origin, root, stagingPort, productionPort })}`,
  );
  // Review sends the first change back; the developer's second run leaves a key in the code.
  const model = await startScriptedModelServer(
    pipelineScript({ reviewVerdicts: ['REQUEST_CHANGES', 'APPROVE'], secretInDeveloperRun: 2 }),
  );

  const config = loadConfig({
    ...process.env,
    // Its own ports, so a running `npm start` is not disturbed (each can be overridden).
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7243',
    ORCH_UI_PORT: process.env.ORCH_UI_PORT ?? '8243',
    ORCH_API_PORT: process.env.ORCH_API_PORT ?? '8510',
    ORCH_METRICS_PORT: process.env.ORCH_METRICS_PORT ?? '9474',
    ORCH_LOG_LEVEL: process.env.ORCH_LOG_LEVEL ?? 'warn',
    ORCH_DATA_DIR: path.join(root, 'data'),
    ORCH_PROJECTS_FILE: path.join(root, 'projects.yaml'),
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'scripted-model-no-real-key',
    ANTHROPIC_AUTH_TOKEN: '',
    ORCH_AGENT_MODEL: 'claude-scripted',
    // The security gate covers the demo project (by default only the self-hosting one).
    ORCH_SECURITY_GATE_SCOPE: PROJECT,
  });
  const logger = createLogger({ level: config.env.ORCH_LOG_LEVEL, base: { component: 'demo' } });
  await installRuntime(logger);
  const stack = await startStack(config, logger);
  const stop = async (): Promise<void> => {
    await stack.stop();
    await model.close();
    stopSampleServices(root);
  };
  onShutdownSignal(async () => stop());

  say(
    '',
    'DEMO: the model is SCRIPTED. The real Claude Code CLI runs every agent role with real tool calls',
    `in a real git checkout, but its answers come from a script served at ${model.url}, not from Claude.`,
    `  Web UI      ${stack.uiUrl}`,
    `  Repository  ${origin}`,
    `  Staging     http://127.0.0.1:${stagingPort}/health, production http://127.0.0.1:${productionPort}/health (after the deploys)`,
    '',
  );
  await submitWorkItem(
    stack.client,
    config,
    PROJECT,
    {
      ticket: TICKET,
      title: 'Apply coupon codes at checkout',
      description: 'Customers can enter a coupon code at checkout to get 10% off.',
    },
    {
      key: `demo-${Date.now()}`,
      source: 'cli',
      type: 'demo.submitted',
    },
  );
  const final = await follow(stack.client);
  const branch = final.branch;
  const files = (await runGit(['-C', origin, 'ls-tree', '-r', '--name-only', branch]))
    .split('\n')
    .filter((f) => f.startsWith(`docs/work-items/${TICKET}/`));
  say(
    '',
    `${TICKET} is ${final.status} at ${final.stage}${final.blocked ? `: ${final.blocked.reason}` : ''}.`,
    `Spent (scripted pricing): $${final.costUsd.toFixed(4)}. Commits on ${branch}:`,
    // Since the sample's first commit: once merged, the item's commits are on main as well.
    ...(await runGit(['-C', origin, 'log', '--format=  %h %s', branch, '--not', seed])).trimEnd().split('\n').reverse(),
    'Artifacts:',
    ...files.map((f) => `  ${f}`),
    `Inspect it in the Web UI: ${stack.uiUrl}`,
    exitWhenSettled ? '' : 'Press Ctrl-C to stop the demo.',
  );
  if (exitWhenSettled) {
    await stop();
    process.exit(final.status === 'done' ? 0 : 1);
  }
}

/** Prints each stage change and gate verdict until the item is blocked or finished. */
async function follow(client: import('@temporalio/client').Client): Promise<WorkItemState> {
  let printedVisits = 0;
  let printedGates = 0;
  for (;;) {
    const state = await workItemState(client, PROJECT, TICKET).catch(() => undefined);
    if (state) {
      // A stage's gate results are recorded before the move they cause: print them first.
      for (const gate of state.gateResults.slice(printedGates))
        say(
          `    gate ${gate.gate}: ${gate.verdict}${gate.findings.length ? ` (${gate.findings.join(' | ').replace(/\s+/g, ' ').slice(0, 160)})` : ''}`,
        );
      printedGates = state.gateResults.length;
      for (const visit of state.history.slice(printedVisits))
        say(`→ ${visit.stage}${visit.stage === 'created' ? '' : ` (${agentOf(visit.stage)})`}`);
      // What the next run is handed, verbatim (the findings that sent the work back).
      if (state.history.length > printedVisits && state.findings.length > 0 && state.stage === 'development')
        say(...state.findings.map((f) => `    handed to the developer: ${f.replace(/\s+/g, ' ').slice(0, 200)}`));
      printedVisits = state.history.length;
      if (state.status !== 'active') return state;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function agentOf(stage: WorkItemState['stage']): string {
  const step = STAGE_GRAPH[stage].step;
  return step?.activity === 'runAgent' ? `the ${step.role} agent works` : (step?.activity ?? 'nothing to run');
}

function say(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch(exitOnStartupError);
