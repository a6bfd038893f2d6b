// The projects registry (projects.yaml): which repositories this instance serves and how.
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { PROJECT_KEY_PATTERN } from '../domain/ids';
import { DEFAULT_LIMITS } from '../domain/limits';
import { ROLES } from '../domain/stages';
import { ConfigError, formatIssues } from './errors';

const TICKET_PREFIX = /^[A-Z][A-Z0-9]{0,11}$/;

const limitsSchema = z
  .object({
    maxReviewRejections: z.number().int().min(0).max(20).default(DEFAULT_LIMITS.maxReviewRejections),
    maxGateRetries: z.number().int().min(0).max(20).default(DEFAULT_LIMITS.maxGateRetries),
  })
  .strict();

const gatesSchema = z
  .object({
    security: z.boolean().default(true),
    /** Fail the security gate when the dependency advisory feed cannot be reached. */
    dependencyAuditStrict: z.boolean().default(false),
    merge: z.boolean().default(true),
    imageFreshness: z.boolean().default(true),
  })
  .strict();

const commandsSchema = z
  .object({
    test: z.string().min(1).optional(),
    /** Builds what is deployed; gets ORCH_REVISION (the merged commit) and ORCH_REBUILD=1 on a rebuild. */
    build: z.string().min(1).optional(),
    /** Prints the revision the built image or artifact records (e.g. its OCI revision label). */
    builtRevision: z.string().min(1).optional(),
    deployStaging: z.string().min(1).optional(),
    deployProduction: z.string().min(1).optional(),
    rollback: z.string().min(1).optional(),
  })
  .strict();

const healthSchema = z
  .object({
    /** Polled after a staging deploy until it answers 2xx. */
    stagingUrl: z.url().optional(),
    /** Polled after a production deploy until it answers 2xx. */
    productionUrl: z.url().optional(),
    /** How long a deploy may take to become healthy. */
    timeoutMs: z.number().int().positive().default(60_000),
    intervalMs: z.number().int().positive().default(1_000),
  })
  .strict();

const ciSchema = z
  .object({
    /**
     * Commit-status contexts (as the CI reports them to Gitea) that must be green on the item's
     * head before development passes (ADR-0025). Empty: no wait.
     */
    requiredContexts: z.array(z.string().min(1).max(200)).max(20).default([]),
    /** How long development waits for them on one head before the item blocks. */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000),
  })
  .strict();

const observationSchema = z
  .object({
    /** How long production is watched after a deploy. */
    windowMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** Time between two probes of health.productionUrl. */
    probeIntervalMs: z.number().int().positive().default(30_000),
  })
  .strict();

/** The host name (ports 80 and 443) or host:port a sandboxed agent may reach besides the model. */
const allowedHost = z
  .string()
  .regex(
    /^(?:[a-z0-9-]+\.)*[a-z0-9-]+(?::\d{1,5})?$|^\[[0-9a-f:]+\](?::\d{1,5})?$/i,
    'a host name or host:port, like registry.npmjs.org',
  );

const sandboxSchema = z
  .object({
    /** Hosts the agent may reach through the sandbox's proxy, besides the model API (a package registry, say). */
    allowHosts: z.array(allowedHost).default([]),
    /** Memory of everything running in one agent's sandbox. */
    memoryMb: z.number().int().min(256).max(262_144).default(4096),
    /** Processes and threads in one agent's sandbox at once. */
    maxProcesses: z.number().int().min(16).max(65_536).default(512),
    /** More toolchain directories the agent may read (e.g. /opt/jdk); /usr is always there. */
    readOnlyPaths: z.array(z.string().regex(/^\/[^\0]*$/, 'an absolute path')).default([]),
  })
  .strict();

const agentsSchema = z
  .object({
    /** A folder of <role>.md files that replace the shipped role prompts (relative to projects.yaml). */
    promptsDir: z.string().min(1).optional(),
    /** The model this project's agents use (overrides ORCH_AGENT_MODEL). */
    model: z.string().min(1).optional(),
    sandbox: sandboxSchema.default(() => sandboxSchema.parse({})),
    /** No stream event for this long (ms) means the run has stalled: it is stopped and retried. */
    stallMs: z
      .number()
      .int()
      .min(100)
      .max(24 * 60 * 60_000)
      .default(10 * 60_000),
    /** Stalls of one stage's run before the item blocks. */
    maxStalls: z.number().int().min(1).max(20).default(2),
    /** The same tool call with the same input this many times in a row is a loop. */
    maxRepeats: z.number().int().min(2).max(100).default(5),
    /** This many turns without a file changing in the workspace is a loop. */
    maxTurnsWithoutChange: z.number().int().min(2).max(1000).default(30),
    /** Wall time of one run per role (minutes; 50 for a role not listed); the activity timeout stays the backstop. */
    maxMinutes: z
      .partialRecord(
        z.enum(ROLES),
        z
          .number()
          .positive()
          .max(24 * 60),
      )
      .default({}),
  })
  .strict();

/** What a person moving the ticket to a state does to its work item (docs/operations/webhooks.md). */
const stateAction = z.enum(['pause', 'cancel', 'none']);

const planeSchema = z
  .object({
    /** The Plane project's UUID (webhooks are workspace-wide and carry only this). */
    projectId: z.guid(),
    /** Start a work item when it is created in, or moved to, this state (UUID) ... */
    triggerState: z.guid().optional(),
    /** ... or when it carries, or is given, this label (name). */
    triggerLabel: z.string().min(1).optional(),
    /** Plane user UUIDs allowed to steer items with comment commands (/approve, /retry, ...). */
    operators: z.array(z.guid()).default([]),
    /**
     * By Plane's state groups: back to backlog or unstarted pauses the item (its running step is
     * stopped; the trigger state or `orch retry` resumes it), completed (done by hand) or
     * cancelled cancels it. The trigger state itself always starts or resumes.
     */
    onStateGroup: z
      .object({
        backlog: stateAction.default('pause'),
        unstarted: stateAction.default('pause'),
        started: stateAction.default('none'),
        completed: stateAction.default('cancel'),
        cancelled: stateAction.default('cancel'),
      })
      .strict()
      .default({ backlog: 'pause', unstarted: 'pause', started: 'none', completed: 'cancel', cancelled: 'cancel' }),
    /** Per-state exceptions (state UUID → pause, cancel or none). */
    onState: z.record(z.guid(), stateAction).default({}),
  })
  .strict()
  .refine((p) => p.triggerState !== undefined || p.triggerLabel !== undefined, {
    message: 'set triggerState or triggerLabel (or both)',
    path: ['triggerState'],
  });

const giteaSchema = z
  .object({
    /** owner/name of the repository on Gitea. */
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name'),
    /**
     * Merge through Gitea's API (open or reuse the PR, merge it there) instead of pushing the
     * merge from git. Branch protection, required approvals and checks on Gitea then apply.
     */
    mergeThroughApi: z.boolean().default(false),
    /**
     * Gitea logins whose comments on the item's PR are commands (`/retry`, `/approve`, ...), as
     * Plane operators' comments are. Anyone else's comment is recorded as a comment.
     */
    operators: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be a Gitea login'))
      .max(100)
      .default([]),
  })
  .strict();

export const projectSchema = z
  .object({
    /** The Plane project identifier; tickets are `<ticketPrefix>-<n>`. */
    ticketPrefix: z.string().regex(TICKET_PREFIX, 'must be upper-case letters and digits, like SHOP'),
    /** This project is the orchestrator's own repository (self-hosting). */
    selfHosting: z.boolean().default(false),
    repository: z.string().min(1),
    defaultBranch: z.string().min(1).default('main'),
    /** How the merge gate merges: a merge commit, or fast-forward (linear history). */
    mergeStyle: z.enum(['merge-commit', 'fast-forward']).default('merge-commit'),
    /** Each work item's own budget (a top-up override raises one item's). */
    budgetUsd: z.number().positive().max(10_000).default(20),
    /** Spend cap of the project's work items that are running or closed in this calendar month (UTC). */
    monthlyBudgetUsd: z.number().positive().max(1_000_000).optional(),
    /**
     * The project's share of the agent and build slots against other projects' (Temporal task
     * queue fairness, ADR-0021): 2 gets twice the dispatches of 1 while both have work waiting.
     */
    fairnessWeight: z.number().positive().max(1000).default(1),
    agents: agentsSchema.default(() => agentsSchema.parse({})),
    limits: limitsSchema.default(() => limitsSchema.parse({})),
    gates: gatesSchema.default(() => gatesSchema.parse({})),
    commands: commandsSchema.default({}),
    health: healthSchema.default(() => healthSchema.parse({})),
    observation: observationSchema.default(() => observationSchema.parse({})),
    ci: ciSchema.default(() => ciSchema.parse({})),
    review: z
      .object({
        /**
         * After review, hold the item until a person approves its pull request on Gitea (or
         * `orch approve`) (ADR-0026).
         */
        requireHumanApproval: z.boolean().default(false),
      })
      .strict()
      .default({ requireHumanApproval: false }),
    plane: planeSchema.optional(),
    gitea: giteaSchema.optional(),
  })
  .strict()
  .refine((p) => !p.gates.imageFreshness || !p.commands.build || p.commands.builtRevision !== undefined, {
    message:
      'the image-freshness gate needs commands.builtRevision (a command printing the revision the build recorded) when commands.build is set',
    path: ['commands', 'builtRevision'],
  })
  .refine((p) => !p.commands.deployStaging || p.health.stagingUrl !== undefined, {
    message: 'a staging deploy needs health.stagingUrl to check it',
    path: ['health', 'stagingUrl'],
  })
  .refine((p) => !p.commands.deployProduction || p.health.productionUrl !== undefined, {
    message: 'a production deploy needs health.productionUrl to check it',
    path: ['health', 'productionUrl'],
  })
  .refine((p) => !p.review.requireHumanApproval || p.gitea !== undefined, {
    message: 'review.requireHumanApproval needs gitea.repository: approvals arrive as Gitea deliveries',
    path: ['review', 'requireHumanApproval'],
  })
  .refine((p) => p.ci.requiredContexts.length === 0 || p.gitea !== undefined, {
    message: 'ci.requiredContexts needs gitea.repository: the statuses arrive as Gitea deliveries',
    path: ['ci', 'requiredContexts'],
  });

export const projectsFileSchema = z
  .object({
    projects: z
      .record(z.string(), projectSchema)
      .refine((projects) => Object.keys(projects).length > 0, 'at least one project is required'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, string>();
    const seenPlane = new Map<string, string>();
    for (const [key, project] of Object.entries(file.projects)) {
      if (!PROJECT_KEY_PATTERN.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', key],
          message: 'project keys are lower-case letters, digits and inner dashes, starting with a letter',
        });
      }
      const other = seen.get(project.ticketPrefix);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', key, 'ticketPrefix'],
          message: `ticket prefix ${project.ticketPrefix} is already used by project ${other}`,
        });
      }
      seen.set(project.ticketPrefix, key);
      const planeId = project.plane?.projectId;
      if (planeId && seenPlane.has(planeId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['projects', key, 'plane', 'projectId'],
          message: `Plane project ${planeId} is already mapped to ${seenPlane.get(planeId)}`,
        });
      }
      if (planeId) seenPlane.set(planeId, key);
    }
  });

export type ProjectConfig = z.infer<typeof projectSchema>;
export type SandboxSettings = z.infer<typeof sandboxSchema>;
export type ProjectsFile = z.infer<typeof projectsFileSchema>;

export function parseProjects(text: string, source: string): ProjectsFile {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${source}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = projectsFileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(source, parsed.error));
  return parsed.data;
}

export function loadProjects(file: string): ProjectsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  ${file}: cannot read the projects file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parseProjects(text, file);
}
