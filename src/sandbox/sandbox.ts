// One sandboxed command: bubblewrap with the item's workspace and a private HOME, the egress
// proxy that is its only way out, and its resource limits. `prepareSandbox` returns the command
// line to spawn; the caller spawns it (so the process handling stays in one place) and calls
// `close` when it has ended.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/paths';
import { loadExeca } from '../util/execa';
import { bwrapArgs, INSIDE, SYSTEM_PATHS, type HostLayout } from './bwrap-args';
import { startEgressProxy, type DeniedConnection, type EgressPolicy, type EgressProxy } from './egress-proxy';
import { createRunCgroup, watchLimits, type LimitBreach, type ResourceLimits, type RunCgroup } from './limits';

/** The relay's port inside the sandbox's own loopback (nothing else listens there). */
export const RELAY_PORT = 3128;
const RELAY_URL = `http://127.0.0.1:${RELAY_PORT}`;
/** The user agents run as inside the user namespace. */
const SANDBOX_UID = 1000;

export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

export interface SandboxRequest {
  readonly bwrap: string;
  /** A private directory of this run outside the sandbox (the proxy's socket lives there). */
  readonly runDir: string;
  readonly workspace: string;
  readonly home: string;
  readonly toolchains: readonly string[];
  /** The program to run inside and its arguments; bound read-only unless it is a system one (`/bin/sh`). */
  readonly program: string;
  readonly bindProgram?: boolean;
  readonly args: readonly string[];
  /** The environment inside; it must hold no secrets (bubblewrap's own process shows it too). */
  readonly env: Readonly<Record<string, string>>;
  readonly egress: Omit<EgressPolicy, 'relayAuthority'>;
  readonly limits: ResourceLimits;
  /** A unique name for the run's cgroup. */
  readonly name: string;
  onDenied(denied: DeniedConnection): void;
}

export interface PreparedSandbox {
  readonly file: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly cgroup?: RunCgroup;
  readonly proxy: EgressProxy;
  /** Starts the watchdog where no cgroup enforces the limits; returns its stop. */
  watch(pid: number, onBreach: (breach: LimitBreach) => void): () => void;
  /** A limit the kernel enforced during the run. */
  breach(): LimitBreach | undefined;
  close(): Promise<void>;
}

const verified = new Set<string>();

/**
 * Fails with what to install when bubblewrap is missing or cannot make the namespaces (no user
 * namespaces, or a container's seccomp profile forbids them). A success is remembered.
 */
export async function assertSandboxAvailable(bwrap: string): Promise<void> {
  if (verified.has(bwrap)) return;
  const { execa } = await loadExeca();
  const probe = await execa(
    bwrap,
    bwrapArgs(
      { writable: [], readOnlyOver: [], readOnly: [], toolchains: [], cwd: '/', uid: SANDBOX_UID, command: ['true'] },
      hostLayout(),
    ),
    {
      reject: false,
      extendEnv: false,
      env: { PATH: '/usr/bin:/bin' },
      timeout: 10_000,
    },
  );
  if (probe.exitCode === 0) {
    verified.add(bwrap);
    return;
  }
  const missing = (probe as { code?: string }).code === 'ENOENT';
  throw new SandboxUnavailableError(
    missing
      ? `the agent sandbox needs bubblewrap, which is not installed (${bwrap} not found): install it (Debian/Ubuntu: apt-get install bubblewrap), or set ORCH_BWRAP_BIN; ORCH_AGENT_SANDBOX=off runs agents unsandboxed (not recommended)`
      : `the agent sandbox cannot be set up: bubblewrap failed (${String(probe.stderr).trim().split('\n').slice(-1)[0] ?? `exit ${probe.exitCode}`}); user namespaces must be allowed (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; in a container: a seccomp profile that allows unshare/clone of namespaces)`,
  );
}

export async function prepareSandbox(request: SandboxRequest): Promise<PreparedSandbox> {
  fs.mkdirSync(request.runDir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(request.runDir, 'egress.sock');
  const proxy = await startEgressProxy(
    socketPath,
    { ...request.egress, relayAuthority: `127.0.0.1:${RELAY_PORT}` },
    request.onDenied,
  );
  const cgroup = createRunCgroup(request.name, request.limits);
  const bwrap = bwrapArgs(
    {
      writable: [request.workspace, request.home],
      // The agent must not write git's configuration or hooks: the activity runs git in this
      // checkout outside the sandbox afterwards.
      readOnlyOver: [path.join(request.workspace, '.git')],
      readOnly: [
        { host: process.execPath, inside: INSIDE.node },
        { host: relayScript(), inside: INSIDE.relay },
        ...(request.bindProgram === false ? [] : [{ host: fs.realpathSync(request.program), inside: INSIDE.claude }]),
        { host: socketPath, inside: INSIDE.egressSocket },
      ],
      toolchains: request.toolchains,
      cwd: request.workspace,
      uid: SANDBOX_UID,
      command: [
        INSIDE.node,
        INSIDE.relay,
        String(RELAY_PORT),
        INSIDE.egressSocket,
        request.bindProgram === false ? request.program : INSIDE.claude,
        ...request.args,
      ],
    },
    hostLayout(),
  );
  // Joining the cgroup before bubblewrap starts: everything it forks is counted from the start.
  const join = cgroup
    ? {
        file: 'sh',
        args: [
          '-c',
          'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"',
          'sh',
          String(cgroup.procsFiles.length),
          ...cgroup.procsFiles,
          request.bwrap,
          ...bwrap,
        ],
      }
    : { file: request.bwrap, args: bwrap };
  return {
    ...join,
    env: sandboxEnvironment(request.env),
    cgroup,
    proxy,
    watch: (pid, onBreach) => (cgroup ? () => undefined : watchLimits(pid, request.limits, onBreach)),
    breach: () => cgroup?.breach(),
    async close() {
      await proxy.close();
      cgroup?.remove();
      fs.rmSync(request.runDir, { recursive: true, force: true });
    },
  };
}

/**
 * The environment inside: the caller's, with the model endpoint and every proxy variable
 * pointing at the relay, and a placeholder where credentials were (the proxy puts the real
 * ones in on the way out).
 */
function sandboxEnvironment(env: Readonly<Record<string, string>>): Record<string, string> {
  const inside: Record<string, string> = { ...env, TMPDIR: '/tmp', ANTHROPIC_BASE_URL: RELAY_URL };
  for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'] as const) {
    if (inside[name]) inside[name] = 'sandboxed-placeholder-credential';
  }
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ALL_PROXY', 'all_proxy'])
    inside[name] = RELAY_URL;
  inside.NO_PROXY = inside.no_proxy = '127.0.0.1,localhost';
  return inside;
}

/** The relay runs from the build (dist/), also when the worker runs from sources under a test runner. */
function relayScript(): string {
  const built = path.join(PROJECT_ROOT, 'dist', 'sandbox', 'relay.js');
  if (!fs.existsSync(built))
    throw new SandboxUnavailableError(`the sandbox relay ${built} is missing: run npm run build`);
  return built;
}

function hostLayout(): HostLayout {
  const symlinks: Record<string, string> = {};
  const directories: string[] = [];
  for (const dir of SYSTEM_PATHS) {
    try {
      const stat = fs.lstatSync(dir);
      if (stat.isSymbolicLink()) symlinks[dir] = fs.readlinkSync(dir);
      else if (stat.isDirectory()) directories.push(dir);
    } catch {
      // Not on this host.
    }
  }
  return { symlinks, directories };
}
