// Settings from the environment, validated at start. Secrets are read here and nowhere else.
import { z } from 'zod';
import { ConfigError, formatIssues } from './errors';

const port = z.coerce.number().int().min(1).max(65535);
const positiveMs = z.coerce.number().int().positive();
/** Worker Deployment names and build IDs: no dots or colons (the server joins them with those). */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9_-]{1,100}$/;
// Empty strings count as unset; a secret's value never appears in a validation message.
const optionalSecret = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().min(16, 'must be at least 16 characters').optional(),
);

export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** No quotes, backslashes or spaces: it is quoted into visibility queries (orch versions). */
  ORCH_TASK_QUEUE: z
    .string()
    .regex(/^[^'"\\\s]{1,200}$/, 'no quotes, backslashes or spaces, at most 200 characters')
    .default('orchestrator'),
  ORCH_API_HOST: z.string().min(1).default('127.0.0.1'),
  ORCH_API_PORT: port.default(8500),
  ORCH_UI_PORT: port.default(8233),
  /** The API's Prometheus endpoint: its own listener, loopback unless said otherwise; 0 picks a free port. */
  ORCH_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  ORCH_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  ORCH_DATA_DIR: z.string().min(1).default('data'),
  ORCH_PROJECTS_FILE: z.string().min(1).default('projects.yaml'),
  ORCH_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  ORCH_AGENT_TIMEOUT_MS: positiveMs.default(60 * 60 * 1000),
  ORCH_GATE_TIMEOUT_MS: positiveMs.default(30 * 60 * 1000),
  ORCH_DEPLOY_TIMEOUT_MS: positiveMs.default(30 * 60 * 1000),
  ORCH_HEARTBEAT_TIMEOUT_MS: positiveMs.default(60 * 1000),
  /** On SIGTERM the worker stops polling and gives running activities this long to finish. */
  ORCH_WORKER_SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30 * 1000),
  /**
   * Worker Versioning (ADR-0028): the Worker Deployment this worker belongs to (default: the main
   * task queue's name, one deployment per orchestrator instance), `off` to run unversioned, the
   * build ID (default: the release's revision and the workflow bundle's hash), and whether the
   * worker makes its own version current at start: `if-none` (the deployment's first build; later
   * builds are released with scripts/release-worker.sh), `always` (npm start's default), `never`.
   */
  ORCH_WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  ORCH_WORKER_DEPLOYMENT: z
    .string()
    .regex(DEPLOYMENT_NAME, 'letters, digits, dash and underscore, at most 100')
    .optional(),
  ORCH_WORKER_BUILD_ID: z
    .string()
    .regex(DEPLOYMENT_NAME, 'letters, digits, dash and underscore, at most 100')
    .optional(),
  ORCH_WORKER_PROMOTE: z.enum(['if-none', 'always', 'never']).optional(),
  ORCH_ACTIVITY_RETRY_INITIAL_MS: positiveMs.default(10 * 1000),
  ORCH_ACTIVITY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  ORCH_WEBHOOK_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  /** Deadline for one forwarding call to Temporal (a signal, a start, an update's acceptance). */
  ORCH_WEBHOOK_SIGNAL_TIMEOUT_MS: positiveMs.default(4000),
  /** How long a delivery's answer may wait for the tracker look-up (Plane); then it is journalled unresolved. */
  ORCH_INTAKE_RESOLVE_MS: positiveMs.max(500).default(300),
  /** How long an answer waits for Temporal to take the delivery, to report what happened; then `queued`. */
  ORCH_INTAKE_ANSWER_WAIT_MS: z.coerce.number().int().min(0).max(500).default(400),
  /** 'full': a journalled delivery survives a power cut; 'normal': a crash of the process. */
  ORCH_INTAKE_SYNC: z.enum(['full', 'normal']).default('full'),
  /** Pending deliveries at most; past it new ones are refused with 503 rather than the disk filled. */
  ORCH_INTAKE_MAX_BACKLOG: z.coerce.number().int().min(100).default(100_000),
  /** Lanes (work items) forwarded at once. */
  ORCH_INTAKE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Longest pause between forwarding attempts while Temporal cannot be reached. */
  ORCH_INTAKE_MAX_BACKOFF_MS: positiveMs.default(30 * 1000),
  /** Forwarded deliveries are kept this long (redeliveries within it are recognised), then pruned. */
  ORCH_INTAKE_RETENTION_HOURS: z.coerce
    .number()
    .positive()
    .default(7 * 24),
  ORCH_PLANE_WEBHOOK_SECRET: optionalSecret,
  ORCH_GITEA_WEBHOOK_SECRET: optionalSecret,
  ORCH_PLANE_API_URL: z.url().optional(),
  ORCH_PLANE_API_KEY: optionalSecret,
  ORCH_PLANE_WORKSPACE: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'a Plane workspace slug')
    .optional(),
  /** The Plane user the API key belongs to: its own actions come back as webhooks and are ignored. */
  ORCH_PLANE_BOT_USER_ID: z.guid().optional(),
  ORCH_GITEA_API_URL: z.url().optional(),
  ORCH_GITEA_TOKEN: optionalSecret,
  ORCH_GITEA_BOT_LOGIN: z.string().min(1).optional(),
  ORCH_RECONCILE_INTERVAL_MS: positiveMs.default(10 * 60 * 1000),
  /** Security gate rollout: off for every project when false. */
  ORCH_SECURITY_GATE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Comma-separated project keys in scope; empty means only the self-hosting project. */
  ORCH_SECURITY_GATE_SCOPE: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Credentials of the model API the agents use; passed to the Claude Code CLI and nothing else. */
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_AUTH_TOKEN: optionalSecret,
  /** A different endpoint of the Messages API (a gateway, or the scripted model of the demo). */
  ANTHROPIC_BASE_URL: z.url().optional(),
  /** Model name or alias the agents use unless the project sets its own. */
  ORCH_AGENT_MODEL: z.string().min(1).default('sonnet'),
  /** The Claude Code CLI; default: the copy pinned in package.json (node_modules/.bin/claude). */
  ORCH_CLAUDE_BIN: z.string().min(1).optional(),
  /**
   * `bwrap`: every agent run in a bubblewrap sandbox (the default; an item blocks when it cannot
   * be set up). `off` runs agents with the worker's own access: warned at start and on every run.
   */
  ORCH_AGENT_SANDBOX: z.enum(['bwrap', 'off']).default('bwrap'),
  /** The worker's Prometheus endpoint (sandbox and agent-run counters); unset: none. */
  ORCH_WORKER_METRICS_PORT: port.optional(),
  ORCH_WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** The bubblewrap binary. */
  ORCH_BWRAP_BIN: z.string().min(1).default('bwrap'),
  /**
   * Agent runs this host carries at once (ADR-0021). A host takes work from the agents pool's queue
   * only while it has a free slot: more runs wait in Temporal's queue. `ORCH_AGENT_MAX_CONCURRENT`
   * is its older name, still read when this one is unset.
   */
  ORCH_AGENT_SLOTS: z.coerce.number().int().min(1).max(64).default(2),
  /** Build-checkout work (merge and image-freshness gates, deploys, rollbacks) this host carries at once. */
  ORCH_BUILD_SLOTS: z.coerce.number().int().min(1).max(64).default(2),
  /** The pool queue of agent runs; default `<ORCH_TASK_QUEUE>-agents`. */
  ORCH_AGENT_TASK_QUEUE: z.string().min(1).optional(),
  /** The pool queue of build-checkout work; default `<ORCH_TASK_QUEUE>-builds`. */
  ORCH_BUILD_TASK_QUEUE: z.string().min(1).optional(),
  /**
   * What this worker process serves: `main` (workflows and short activities), `agents` and
   * `builds` (the pool's queue and this host's own queue). Default all three.
   */
  ORCH_WORKER_QUEUES: z
    .string()
    .default('main,agents,builds')
    .transform((v, ctx) => {
      const roles = v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const unknown = roles.filter((r) => !WORKER_ROLES.includes(r as WorkerRole));
      if (unknown.length > 0 || roles.length === 0)
        ctx.addIssue({ code: 'custom', message: `expected a comma list of ${WORKER_ROLES.join(', ')}` });
      return new Set(roles as WorkerRole[]) as ReadonlySet<WorkerRole>;
    }),
  /**
   * This host's name in the fleet: its own queue is `<ORCH_TASK_QUEUE>@<id>`. Keep it stable
   * across restarts (a restarted host picks up the retries of its runs). Default: the host name
   * and a digest of the data directory.
   */
  ORCH_HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits, dot, colon, dash and underscore, at most 100')
    .optional(),
  /**
   * Checkouts of ended items (cancelled, or done on a host that was away) are removed this many
   * days after the item ended; a running item's never. 0: never swept (`orch workspaces clean`).
   */
  ORCH_WORKSPACE_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(7),
  /** A host that takes no task from its own queue for this long is gone: its work moves to another host. */
  ORCH_HOST_START_TIMEOUT_MS: positiveMs.default(5 * 60 * 1000),
  /** Turn limit of one agent run (`--max-turns`); unset leaves the CLI's own. */
  ORCH_AGENT_MAX_TURNS: z.coerce.number().int().min(1).max(10_000).optional(),
  /** How often the merge lease checks that its holder still runs. */
  ORCH_MERGE_LEASE_CHECK_MS: positiveMs.default(60 * 1000),
  /** The longest one work item may hold a repository's merge lease. */
  ORCH_MERGE_LEASE_MAX_HOLD_MS: positiveMs.default(2 * 60 * 60 * 1000),
  /** An offline OSV advisory database for the dependency audit (osv-scanner's local-db layout). */
  ORCH_OSV_DB_DIR: z.string().min(1).optional(),
});

export type EnvConfig = z.infer<typeof envSchema>;

export const WORKER_ROLES = ['main', 'agents', 'builds'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

export function loadEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  // The slot count's older name, from before agent runs waited in Temporal's queue.
  const slots = env.ORCH_AGENT_SLOTS ?? env.ORCH_AGENT_MAX_CONCURRENT;
  const parsed = envSchema.safeParse(slots === undefined ? env : { ...env, ORCH_AGENT_SLOTS: slots });
  if (!parsed.success) throw new ConfigError(formatIssues('environment', parsed.error));
  return parsed.data;
}
