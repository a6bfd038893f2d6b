// The bubblewrap command line of one sandbox: which namespaces, which paths, which user. Pure:
// the host's layout comes in as data, so the rules are unit-tested and the same for every run.
/** How the host's top-level system paths look (a merged-/usr host has /bin as a symlink). */
export interface HostLayout {
  /** Symlinks among the system paths, with their targets (`/bin` → `usr/bin`). */
  readonly symlinks: Readonly<Record<string, string>>;
  /** System paths that are real directories. */
  readonly directories: readonly string[];
}

export interface BwrapSpec {
  /** Bound read-write at the same path: the item's workspace and the run's private HOME. */
  readonly writable: readonly string[];
  /** Bound read-only at the same path after the writable ones: the workspace's .git, say. */
  readonly readOnlyOver: readonly string[];
  /** Read-only binds of host files or directories to paths inside (the CLI, the relay, node). */
  readonly readOnly: readonly { readonly host: string; readonly inside: string }[];
  /** Extra toolchain directories, read-only at the same path (projects.yaml `agents.sandbox.readOnlyPaths`). */
  readonly toolchains: readonly string[];
  readonly cwd: string;
  /** The unprivileged user inside the user namespace. */
  readonly uid: number;
  readonly command: readonly string[];
}

/** Top-level system paths the toolchains live under; all read-only. */
export const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/**
 * The few files of /etc that programs need to run (users, name resolution, TLS roots, shared
 * libraries, alternatives). Never the whole of /etc: inside the user namespace the agent owns
 * what the worker's user owns, so a root worker's /etc/shadow would be readable.
 */
export const ETC_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/localtime',
  '/etc/mime.types',
] as const;

export function bwrapArgs(spec: BwrapSpec, layout: HostLayout): string[] {
  const args = [
    // New user, PID, network, IPC, UTS and cgroup namespaces. The user namespace is required
    // (not "-try"): without it a root worker's sandbox would keep root's capabilities.
    '--unshare-user',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--uid',
    String(spec.uid),
    '--gid',
    String(spec.uid),
    '--cap-drop',
    'ALL',
    '--hostname',
    'agent-sandbox',
    // SIGKILL to everything inside when the worker dies; a new session so nothing inside can
    // push keystrokes into the worker's terminal (TIOCSTI).
    '--die-with-parent',
    '--new-session',
  ];
  for (const dir of SYSTEM_PATHS) {
    const target = layout.symlinks[dir];
    if (target !== undefined) args.push('--symlink', target, dir);
    else if (layout.directories.includes(dir)) args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) args.push('--ro-bind-try', file, file);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run', '--tmpfs', '/var/tmp');
  // After the private /tmp and /run: a toolchain there would be hidden under them otherwise.
  for (const dir of spec.toolchains) args.push('--ro-bind-try', dir, dir);
  for (const dir of spec.writable) args.push('--bind', dir, dir);
  for (const dir of spec.readOnlyOver) args.push('--ro-bind-try', dir, dir);
  for (const { host, inside } of spec.readOnly) args.push('--ro-bind', host, inside);
  args.push('--chdir', spec.cwd, '--', ...spec.command);
  return args;
}

/** Where the orchestrator's own files appear inside a sandbox (read-only). */
export const INSIDE = {
  root: '/opt/orchestrator',
  node: '/opt/orchestrator/node',
  relay: '/opt/orchestrator/relay.js',
  claude: '/opt/orchestrator/claude',
  egressSocket: '/run/orchestrator/egress.sock',
} as const;
