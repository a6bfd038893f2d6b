// Scripts for the scripted model server that play each agent role through the real CLI: the
// analyst, architect, reviewer and tester write their artifacts with the Write tool, the
// developer writes code and appends to CHANGELOG.md with Bash. Scenarios (a REQUEST_CHANGES, a
// failing test report, a malformed artifact) are options, so tests and the demo share one script.
import fs from 'node:fs';
import path from 'node:path';
import type { Role } from '../../domain';
import { toolCallKey, type ModelRequest, type ModelScript, type ScriptedTurn } from './server';

export interface PipelineScenario {
  /** Verdicts of successive review runs per ticket; APPROVE once the list runs out. */
  readonly reviewVerdicts?: readonly ('APPROVE' | 'REQUEST_CHANGES')[];
  /** Verdicts of successive test runs per ticket; PASS once the list runs out. */
  readonly testVerdicts?: readonly ('PASS' | 'FAIL')[];
  /** Roles whose first run writes an artifact with a verdict the contract does not know. */
  readonly malformedOnce?: readonly Role[];
  /** More Bash commands the developer runs after its change (e.g. a build it starts). */
  readonly developerCommands?: readonly string[];
  /**
   * The developer's run of this number leaves an AWS key in src/payment-gateway.js (a mistake
   * the security gate must catch); its later runs read the key from the environment instead.
   */
  readonly secretInDeveloperRun?: number;
  /** Called before each turn is answered: a test can hold a turn to crash or cancel mid-run. */
  readonly beforeTurn?: (info: TurnInfo) => Promise<void> | void;
}

export interface TurnInfo {
  readonly ticket: string;
  readonly role: Role;
  readonly turnIndex: number;
  readonly sessionId?: string;
  /** How many runs of this role this ticket had, this one included. */
  readonly run: number;
}

/** What the task prompt tells the agent (see src/activities/agent/prompt.ts). */
export interface TaskMarkers {
  readonly ticket: string;
  readonly role: Role;
  readonly workspace: string;
  readonly docs: string;
}

export function readTaskMarkers(text: string): TaskMarkers | undefined {
  const ticket = /^# Work item (\S+):/m.exec(text)?.[1];
  const role = /^Role: (\w+)$/m.exec(text)?.[1] as Role | undefined;
  const workspace = /^Workspace: (.+)$/m.exec(text)?.[1];
  const docs = /^Artifact directory: (.+)$/m.exec(text)?.[1];
  return ticket && role && workspace && docs ? { ticket, role, workspace, docs } : undefined;
}

/**
 * Commands for a project whose agents this script plays: the merge gate's tests load the module
 * the developer writes, the build records the revision it was built from.
 */
export const SAMPLE_PROJECT_COMMANDS = {
  test: "node -e \"const c = require('./src/coupon.js'); if (c.applyCoupon(100, 'SAVE10') !== 90) process.exit(1)\"",
  build: 'mkdir -p build && git rev-parse HEAD > build/REVISION',
  builtRevision: 'cat build/REVISION',
};

/** The commands as projects.yaml lines (indented for a project entry). */
export function sampleCommandsYaml(indent = '    '): string {
  return `${indent}commands:\n${Object.entries(SAMPLE_PROJECT_COMMANDS)
    .map(([k, v]) => `${indent}  ${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;
}

export const REVIEW_CHANGE_REQUEST = 'Validate the coupon code format before applying it (reject codes with spaces).';

export function pipelineScript(scenario: PipelineScenario = {}): ModelScript {
  // One turn list per conversation, fixed at its first request: a resumed session continues it.
  const conversations = new Map<string, ScriptedTurn[]>();
  const runs = new Map<string, number>();
  return async (request: ModelRequest) => {
    const task = readTaskMarkers(request.userText);
    if (!task) return { text: "This scripted model only plays the orchestrator's agent roles." };
    const key = request.sessionHeader ?? `${task.ticket}/${task.role}`;
    let turns = conversations.get(key);
    if (!turns) {
      const runKey = `${task.ticket}/${task.role}`;
      runs.set(runKey, (runs.get(runKey) ?? 0) + 1);
      turns = roleTurns(task, runs.get(runKey) as number, scenario);
      conversations.set(key, turns);
    }
    await scenario.beforeTurn?.({
      ticket: task.ticket,
      role: task.role,
      turnIndex: request.turnIndex,
      sessionId: request.sessionHeader,
      run: runs.get(`${task.ticket}/${task.role}`) ?? 1,
    });
    return nextTurn(turns, request.toolCallsMade);
  };
}

/**
 * The first scripted tool call the conversation has not made yet, else the closing text. Going by
 * the calls made (not by counting turns) lets a resumed session pick up exactly where the
 * interrupted one stopped, whatever the CLI adds to the transcript on resume.
 */
function nextTurn(turns: readonly ScriptedTurn[], made: readonly string[]): ScriptedTurn {
  const done = new Set(made);
  for (const turn of turns) {
    if ('tool' in turn && !done.has(toolCallKey(turn.tool, turn.input))) return turn;
  }
  return turns.find((turn) => 'text' in turn) ?? { text: 'Done.' };
}

function roleTurns(task: TaskMarkers, run: number, scenario: PipelineScenario): ScriptedTurn[] {
  const doc = (name: string) => path.join(task.docs, name);
  const malformed = run === 1 && (scenario.malformedOnce ?? []).includes(task.role);
  switch (task.role) {
    case 'analyst':
      return [
        ...write(doc('00-business-request.md'), `# Business request\n\nScripted analysis of ${task.ticket}.\n`),
        ...write(doc('01-brd.md'), '# Business requirements\n\n- Customers can apply a coupon code at checkout.\n'),
        ...write(
          doc('02-trz.md'),
          '# Technical specification\n\n`applyCoupon(total, code)` returns the discounted total.\n',
        ),
        ...write(
          doc('03-acceptance-criteria.md'),
          '# Acceptance criteria\n\n1. AC-1: a valid code reduces the total.\n',
        ),
        ...write(
          doc('04-test-plan.yaml'),
          'criteria:\n  - id: AC-1\n    tests:\n      - name: applies a valid code\n        kind: unit\n',
        ),
        { text: 'Analysis written.' },
      ];
    case 'architect':
      return [
        ...write(
          doc('06-adr/ADR-001-coupon-module.md'),
          '# ADR-001: coupons in their own module\n\nDecision: src/coupon.js.\n',
        ),
        ...write(doc('07-infra-requirements.md'), '# Infrastructure\n\nNo new infrastructure.\n'),
        ...write(doc('08-data-requirements.md'), '# Data\n\nNo schema change.\n'),
        ...write(doc('10-tech-risks.md'), '# Technical risks\n\n- Rounding of discounts: low.\n'),
        { text: 'Architecture written.' },
      ];
    case 'developer':
      return [
        ...write(
          path.join(task.workspace, 'src/coupon.js'),
          `// Coupon codes (${task.ticket}, run ${run}).\nexports.applyCoupon = (total, code) => (/^[A-Z0-9]+$/.test(code) ? Math.round(total * 90) / 100 : total);\n`,
        ),
        {
          tool: 'Bash',
          input: {
            command: `printf '\\n- Coupon codes at checkout (${task.ticket}, run ${run})\\n' >> CHANGELOG.md`,
            description: 'Add a CHANGELOG entry',
          },
        },
        ...paymentGateway(task, run, scenario.secretInDeveloperRun),
        ...(scenario.developerCommands ?? []).map((command) => ({
          tool: 'Bash',
          input: { command, description: 'Run a project command' },
        })),
        { text: 'Implemented.' },
      ];
    case 'reviewer': {
      const verdict = malformed ? 'LGTM' : (scenario.reviewVerdicts?.[run - 1] ?? 'APPROVE');
      const body =
        verdict === 'REQUEST_CHANGES'
          ? `# Review\n\n${REVIEW_CHANGE_REQUEST}\n`
          : '# Review\n\nThe change matches the specification.\n';
      return [
        ...write(doc('12-review.md'), `---\nverdict: ${verdict}\n---\n\n${body}`),
        { text: `Review: ${verdict}.` },
      ];
    }
    case 'tester': {
      const verdict = malformed ? 'GREEN' : (scenario.testVerdicts?.[run - 1] ?? 'PASS');
      return [
        {
          tool: 'Bash',
          input: {
            command:
              "node -e \"const c=require('./src/coupon.js'); if (c.applyCoupon(100,'SAVE10')!==90) process.exit(1)\" && echo ok",
            description: 'Run the acceptance check',
          },
        },
        ...write(
          doc('13-test-report.md'),
          `---\nverdict: ${verdict}\n---\n\n# Test report\n\nAC-1: ${verdict === 'PASS' ? 'passed' : 'failed: applyCoupon(100, "SAVE10") did not return 90'}.\n`,
        ),
        { text: `Tests: ${verdict}.` },
      ];
    }
    case 'deployer':
      return [{ text: 'Deployments are run by the orchestrator, not by this scripted role.' }];
  }
}

/** An example key in the shape gitleaks knows (AWS access key id); assembled so this file is not one. */
export const DEMO_LEAKED_KEY = ['AKIA', 'DEMOLEAKEDKEY7QX'].join('');

function paymentGateway(task: TaskMarkers, run: number, secretRun: number | undefined): ScriptedTurn[] {
  if (secretRun === undefined || run < secretRun) return [];
  const file = path.join(task.workspace, 'src/payment-gateway.js');
  return run === secretRun
    ? write(
        file,
        `// Payment gateway client (${task.ticket}).\nconst awsAccessKeyId = "${DEMO_LEAKED_KEY}";\nexports.keyId = awsAccessKeyId;\n`,
      )
    : write(
        file,
        `// Payment gateway client (${task.ticket}): the key comes from the environment, never the code.\nexports.keyId = process.env.PAYMENT_GATEWAY_KEY_ID;\n`,
      );
}

/** The CLI refuses to overwrite a file it has not read in this session, as a careful agent would. */
function write(file: string, content: string): ScriptedTurn[] {
  const turns: ScriptedTurn[] = [];
  if (fs.existsSync(file)) turns.push({ tool: 'Read', input: { file_path: file } });
  turns.push({ tool: 'Write', input: { file_path: file, content } });
  return turns;
}
