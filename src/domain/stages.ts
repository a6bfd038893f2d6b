// The stage graph: the single description of the pipeline used by the workflow, the CLI and the docs.
import type { GateName } from './gates';

export const STAGES = [
  'created',
  'analysis',
  'architecture',
  'development',
  'review',
  'testing',
  'deploy-staging',
  'deploy',
  'done',
] as const;
export type Stage = (typeof STAGES)[number];

export const ROLES = ['analyst', 'architect', 'developer', 'reviewer', 'tester', 'deployer'] as const;
export type Role = (typeof ROLES)[number];

/** What happens inside a stage before its outgoing gates run. Names are activity names. */
export type StageStep =
  | { readonly activity: 'runAgent'; readonly role: Role }
  | { readonly activity: 'deployStaging' }
  | { readonly activity: 'deployProduction' };

export type StepActivityName = StageStep['activity'];

export interface StageSpec {
  readonly stage: Stage;
  readonly summary: string;
  readonly step?: StageStep;
  /** The stage reached when every gate on the outgoing edge passes. Absent only for `done`. */
  readonly next?: Stage;
  /** Gates on the outgoing edge, in the order they run. */
  readonly gates: readonly GateName[];
  /** Where a failed gate (or REQUEST_CHANGES) sends the item, with its findings. */
  readonly onFailure?: Stage;
}

const graph: readonly StageSpec[] = [
  { stage: 'created', summary: 'Ticket accepted; nothing has run yet', next: 'analysis', gates: [] },
  {
    stage: 'analysis',
    summary: 'Analyst writes the business request, BRD, spec, acceptance criteria and test plan',
    step: { activity: 'runAgent', role: 'analyst' },
    next: 'architecture',
    gates: ['artifacts'],
    onFailure: 'analysis',
  },
  {
    stage: 'architecture',
    summary: 'Architect writes ADRs, infrastructure and data requirements, technical risks',
    step: { activity: 'runAgent', role: 'architect' },
    next: 'development',
    gates: ['artifacts'],
    onFailure: 'architecture',
  },
  {
    stage: 'development',
    summary: 'Developer changes code, docs and CHANGELOG on the item branch',
    step: { activity: 'runAgent', role: 'developer' },
    next: 'review',
    // `ci` waits only for items whose project requires CI contexts (ADR-0025).
    gates: ['artifacts', 'ci'],
    onFailure: 'development',
  },
  {
    stage: 'review',
    summary: 'Reviewer writes 12-review.md with verdict APPROVE or REQUEST_CHANGES',
    step: { activity: 'runAgent', role: 'reviewer' },
    next: 'testing',
    // `approval` holds only items whose project requires a person's approval (ADR-0026).
    gates: ['artifacts', 'approval'],
    onFailure: 'development',
  },
  {
    stage: 'testing',
    summary:
      'Tester writes 13-test-report.md with verdict PASS or FAIL; then security, merge and image-freshness gates',
    step: { activity: 'runAgent', role: 'tester' },
    next: 'deploy-staging',
    // The deterministic pre-staging gates run on this edge, cheapest first: a secret leak or
    // vulnerable dependency fails before any rebase or rebuild is paid for.
    gates: ['artifacts', 'security', 'merge', 'image-freshness'],
    onFailure: 'development',
  },
  {
    stage: 'deploy-staging',
    summary: 'Deploy to staging and health-check; 15-staging-log.md carries staging_status',
    step: { activity: 'deployStaging' },
    next: 'deploy',
    gates: ['artifacts'],
    onFailure: 'development',
  },
  {
    stage: 'deploy',
    summary: 'Deploy to production, then observe; 14-deploy-log.md and 16-post-deploy-log.md',
    step: { activity: 'deployProduction' },
    next: 'done',
    gates: ['artifacts', 'observation'],
    onFailure: 'development',
  },
  { stage: 'done', summary: 'Delivered', gates: [] },
];

export const STAGE_GRAPH: Readonly<Record<Stage, StageSpec>> = Object.fromEntries(
  graph.map((spec) => [spec.stage, spec]),
) as Record<Stage, StageSpec>;

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}

/** Stages a rollback from `current` may target: earlier working stages (never `created`). */
export function rollbackTargets(current: Stage): Stage[] {
  return STAGES.filter((s) => s !== 'created' && stageIndex(s) < stageIndex(current));
}

/** Renders the graph as a Mermaid flowchart, for docs and `orch stages`. */
export function stageGraphMermaid(): string {
  const lines = ['flowchart LR'];
  for (const spec of graph) {
    if (spec.next) {
      const label = spec.gates.length > 0 ? `|${spec.gates.join(', ')}|` : '';
      lines.push(`  ${id(spec.stage)}[${spec.stage}] -->${label} ${id(spec.next)}[${spec.next}]`);
    }
    if (spec.onFailure && spec.onFailure !== spec.stage) {
      const label =
        spec.step?.activity === 'runAgent' && spec.step.role === 'reviewer' ? 'REQUEST_CHANGES / fail' : 'fail';
      lines.push(`  ${id(spec.stage)} -. ${label} .-> ${id(spec.onFailure)}`);
    }
  }
  return lines.join('\n');
}

function id(stage: Stage): string {
  return stage.replace('-', '_');
}
