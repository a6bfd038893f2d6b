// The Claude Code command line and environment of one agent run. Kept apart from the process
// handling so the flag contract test runs exactly these arguments against the pinned CLI.
import path from 'node:path';
import type { EnvConfig } from '../../config/env';
import { PROJECT_ROOT } from '../../config/paths';
import type { RolePermissions } from '../../domain';

export interface ClaudeInvocation {
  /** The role prompt, appended to Claude Code's own system prompt (which carries tool use). */
  readonly rolePrompt: string;
  readonly session: { readonly mode: 'new' | 'resume'; readonly id: string };
  readonly permissions: RolePermissions;
  readonly model: string;
  readonly maxBudgetUsd: number;
  readonly maxTurns?: number;
}

export function claudeBinary(env: EnvConfig): string {
  return env.ORCH_CLAUDE_BIN ?? path.join(PROJECT_ROOT, 'node_modules', '.bin', 'claude');
}

/** The task prompt goes to stdin: a ticket with long findings can exceed one argument's limit (128 KiB). */
export function claudeArgs(run: ClaudeInvocation): string[] {
  return [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    // A stream event per model delta: a slow answer is progress, silence is a stall.
    '--include-partial-messages',
    ...(run.session.mode === 'resume' ? ['--resume', run.session.id] : ['--session-id', run.session.id]),
    '--append-system-prompt',
    run.rolePrompt,
    '--permission-mode',
    run.permissions.permissionMode,
    '--tools',
    run.permissions.tools.join(','),
    '--allowedTools',
    run.permissions.allowedTools.join(','),
    '--model',
    run.model,
    '--max-budget-usd',
    // The CLI takes dollars; cents below a hundredth are noise in a cap.
    run.maxBudgetUsd.toFixed(4),
    ...(run.maxTurns ? ['--max-turns', String(run.maxTurns)] : []),
    // The repository under work is not trusted to configure its agent: no project settings
    // (hooks, permissions) and no MCP servers from it.
    '--setting-sources',
    'user',
    '--strict-mcp-config',
  ];
}

/** Variables the CLI needs from the worker's environment; everything else is left out. */
const PASSED_THROUGH = [
  'PATH',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'NODE_EXTRA_CA_CERTS',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
] as const;

/**
 * The child's whole environment: no webhook secrets or tracker tokens, only the model
 * credentials, and a HOME of its own where the CLI keeps its sessions (so a crashed run can be
 * resumed by the next worker on this machine).
 */
export function agentEnvironment(
  env: EnvConfig,
  home: string,
  worker: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const child: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = worker[name];
    if (value) child[name] = value;
  }
  child.HOME = home;
  child.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  child.DISABLE_AUTOUPDATER = '1';
  if (env.ANTHROPIC_API_KEY) child.ANTHROPIC_API_KEY = env.ANTHROPIC_API_KEY;
  if (env.ANTHROPIC_AUTH_TOKEN) child.ANTHROPIC_AUTH_TOKEN = env.ANTHROPIC_AUTH_TOKEN;
  if (env.ANTHROPIC_BASE_URL) child.ANTHROPIC_BASE_URL = env.ANTHROPIC_BASE_URL;
  // Claude Code exports its own telemetry (OpenTelemetry) where the worker's goes; exporter
  // headers stay behind, since they often carry the collector's credentials.
  for (const [name, value] of Object.entries(worker)) {
    const telemetry = name.startsWith('OTEL_') || name === 'CLAUDE_CODE_ENABLE_TELEMETRY';
    if (value && telemetry && !name.endsWith('_HEADERS')) child[name] = value;
  }
  return child;
}

/** The Messages API's own address, used when ANTHROPIC_BASE_URL is not set. */
const DEFAULT_MODEL_URL = 'https://api.anthropic.com';

/**
 * Where a sandbox's model requests go, and the credential headers its egress proxy puts on them:
 * the agent inside holds only a placeholder.
 */
export function modelEgress(env: EnvConfig): { modelUrl: URL; modelHeaders: Record<string, string> } {
  const modelHeaders: Record<string, string> = {};
  if (env.ANTHROPIC_API_KEY) modelHeaders['x-api-key'] = env.ANTHROPIC_API_KEY;
  if (env.ANTHROPIC_AUTH_TOKEN) modelHeaders.authorization = `Bearer ${env.ANTHROPIC_AUTH_TOKEN}`;
  return { modelUrl: new URL(env.ANTHROPIC_BASE_URL ?? DEFAULT_MODEL_URL), modelHeaders };
}

export function hasModelCredentials(env: EnvConfig): boolean {
  return Boolean(env.ANTHROPIC_API_KEY ?? env.ANTHROPIC_AUTH_TOKEN);
}
