// The sandbox's pure rules and its egress proxy, without bubblewrap: what the command line
// unshares and binds, which destinations pass, and that model requests leave with the worker's
// credentials while the sandbox's own are dropped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { withoutCredentials } from '../../src/activities/workspace/workspace';
import { bwrapArgs, type BwrapSpec } from '../../src/sandbox/bwrap-args';
import { createRunCgroup, type RunCgroup } from '../../src/sandbox/limits';
import { hostAllowed, startEgressProxy, type DeniedConnection, type EgressProxy } from '../../src/sandbox/egress-proxy';

const spec: BwrapSpec = {
  writable: ['/data/workspaces/shop/SHOP-1', '/data/agent-homes/shop/SHOP-1'],
  readOnlyOver: ['/data/workspaces/shop/SHOP-1/.git'],
  readOnly: [{ host: '/usr/bin/node', inside: '/opt/orchestrator/node' }],
  toolchains: ['/opt/jdk'],
  cwd: '/data/workspaces/shop/SHOP-1',
  uid: 1000,
  command: ['/opt/orchestrator/node', 'relay.js'],
};
const layout = { symlinks: { '/bin': 'usr/bin', '/lib': 'usr/lib' }, directories: ['/usr', '/sbin'] };

describe('bwrapArgs', () => {
  const args = bwrapArgs(spec, layout);
  const pairs = (flag: string) => args.flatMap((a, i) => (a === flag ? [`${args[i + 1]} ${args[i + 2]}`] : []));

  test('unshares user (required, not -try), PID, network, IPC and UTS, and dies with its parent', () => {
    for (const flag of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-net',
      '--unshare-ipc',
      '--unshare-uts',
      '--die-with-parent',
      '--new-session',
    ])
      expect(args).toContain(flag);
    expect(args).not.toContain('--unshare-user-try');
    expect(args).not.toContain('--share-net');
    expect(args.slice(args.indexOf('--uid'), args.indexOf('--uid') + 2)).toEqual(['--uid', '1000']);
    expect(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2)).toEqual(['--cap-drop', 'ALL']);
  });

  test('binds the system read-only, keeps merged-/usr symlinks, and never the whole of /etc', () => {
    expect(pairs('--ro-bind')).toEqual(
      expect.arrayContaining(['/usr /usr', '/sbin /sbin', '/usr/bin/node /opt/orchestrator/node']),
    );
    expect(pairs('--symlink')).toEqual(expect.arrayContaining(['usr/bin /bin', 'usr/lib /lib']));
    expect(args.filter((a) => a === '/etc')).toEqual([]);
    expect(pairs('--ro-bind-try')).toEqual(
      expect.arrayContaining(['/etc/passwd /etc/passwd', '/etc/ssl /etc/ssl', '/opt/jdk /opt/jdk']),
    );
    expect(args.join(' ')).not.toMatch(/\/etc\/shadow|\/root|\/home/);
  });

  test('the workspace and HOME are the only writable binds; .git is read-only over the workspace', () => {
    expect(pairs('--bind')).toEqual([
      '/data/workspaces/shop/SHOP-1 /data/workspaces/shop/SHOP-1',
      '/data/agent-homes/shop/SHOP-1 /data/agent-homes/shop/SHOP-1',
    ]);
    const ws = args.indexOf('--bind');
    const git = args.indexOf('/data/workspaces/shop/SHOP-1/.git');
    expect(git).toBeGreaterThan(ws);
    expect(args[git - 1]).toBe('--ro-bind-try');
    // A private /tmp, fresh /proc and /dev, and the command after `--`.
    expect(args).toEqual(expect.arrayContaining(['--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp']));
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/opt/orchestrator/node', 'relay.js']);
    // Toolchains are bound after the private /tmp, which would otherwise hide one that lives there.
    expect(args.indexOf('/opt/jdk')).toBeGreaterThan(args.indexOf('/tmp'));
  });
});

test('hostAllowed: names match on 80/443, host:port exactly, case-insensitively; nothing else', () => {
  const allow = ['registry.npmjs.org', 'Proxy.Example:3128'];
  expect(hostAllowed(allow, 'registry.npmjs.org', 443)).toBe(true);
  expect(hostAllowed(allow, 'REGISTRY.npmjs.org', 80)).toBe(true);
  expect(hostAllowed(allow, 'registry.npmjs.org', 22)).toBe(false);
  expect(hostAllowed(allow, 'evil.registry.npmjs.org', 443)).toBe(false);
  expect(hostAllowed(allow, 'proxy.example', 3128)).toBe(true);
  expect(hostAllowed(allow, 'proxy.example', 443)).toBe(false);
  expect(hostAllowed([], '127.0.0.1', 7233)).toBe(false);
});

test('withoutCredentials drops user-info from URLs and leaves other forms alone', () => {
  expect(withoutCredentials('https://bot:s3cret-token@gitea.example/shop/app.git')).toBe(
    'https://gitea.example/shop/app.git',
  );
  expect(withoutCredentials('git@gitea.example:shop/app.git')).toBe('git@gitea.example:shop/app.git');
  expect(withoutCredentials('/srv/git/app.git')).toBe('/srv/git/app.git');
});

describe('egress proxy', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  const seen: { url?: string; apiKey?: string; authorization?: string }[] = [];
  let proxy: EgressProxy;
  const denied: DeniedConnection[] = [];
  let socketPath: string;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      seen.push({
        url: req.url,
        apiKey: req.headers['x-api-key'] as string | undefined,
        authorization: req.headers.authorization,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream saw ${req.url}`);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as net.AddressInfo).port;
    upstreamUrl = `http://127.0.0.1:${port}`;
    socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-egress-')), 'egress.sock');
    proxy = await startEgressProxy(
      socketPath,
      {
        modelUrl: new URL(`${upstreamUrl}/gateway`),
        modelHeaders: { 'x-api-key': 'sk-real-key' },
        allowHosts: [`127.0.0.1:${port}`],
        relayAuthority: '127.0.0.1:3128',
      },
      (d) => denied.push(d),
    );
  });
  afterAll(async () => {
    await proxy.close();
    upstream.close();
  });

  function viaSocket(options: http.RequestOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath, ...options }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('a model request goes to the configured endpoint with the worker key, never the sandbox one', async () => {
    const answer = await viaSocket({
      method: 'POST',
      path: '/v1/messages?beta=true',
      headers: { 'x-api-key': 'sandboxed-placeholder-credential', authorization: 'Bearer stolen' },
    });
    expect(answer).toEqual({ status: 200, body: 'upstream saw /gateway/v1/messages?beta=true' });
    expect(seen.at(-1)).toEqual({
      url: '/gateway/v1/messages?beta=true',
      apiKey: 'sk-real-key',
      authorization: undefined,
    });
  });

  test('absolute-form requests pass only to allowed hosts; others are refused, reported and counted', async () => {
    expect((await viaSocket({ method: 'GET', path: `${upstreamUrl}/allowed` })).status).toBe(200);
    const refused = await viaSocket({ method: 'GET', path: 'http://127.0.0.2:7233/' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toEqual({
      type: 'error',
      error: { type: 'sandbox_egress', message: 'the agent sandbox does not allow 127.0.0.2:7233' },
    });
    expect(denied.at(-1)).toEqual({ method: 'GET', destination: '127.0.0.2:7233' });
  });

  test('CONNECT tunnels to an allowed host and is refused elsewhere', async () => {
    const port = new URL(upstreamUrl).port;
    const connect = (authority: string) =>
      new Promise<string>((resolve) => {
        const socket = net.connect(socketPath, () =>
          socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('\r\n\r\n') && text.startsWith('HTTP/1.1 200')) {
            if (!text.includes('upstream saw'))
              socket.write(`GET /tunnelled HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
          }
        });
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
    expect(await connect(`127.0.0.1:${port}`)).toMatch(
      /^HTTP\/1.1 200 Connection Established[\s\S]*upstream saw \/tunnelled/,
    );
    expect(await connect('169.254.169.254:80')).toMatch(/^HTTP\/1.1 403/);
    expect(denied.at(-1)).toEqual({ method: 'CONNECT', destination: '169.254.169.254:80' });
  });
});

describe('run cgroups', () => {
  const limits = { memoryMb: 512, maxProcesses: 64 };
  const groupDirs = (group: RunCgroup) => group.procsFiles.map((f) => path.dirname(f));

  test("starting a run never sweeps a live worker's group, even while it is still empty; a dead worker's is swept", () => {
    const deadWorker = spawnSync('true').pid as number;
    const stale = createRunCgroup(`stale-${deadWorker}-1`, limits);
    const mine = createRunCgroup(`mine-${process.pid}-${Date.now()}`, limits);
    // This machine (and CI) runs as root with writable cgroups: the kernel enforces the limits.
    expect(stale && mine).toBeDefined();
    const other = createRunCgroup(`other-${process.pid}-${Date.now() + 1}`, limits);
    try {
      expect(groupDirs(mine!).every((d) => fs.existsSync(d))).toBe(true);
      expect(groupDirs(stale!).some((d) => fs.existsSync(d))).toBe(false);
    } finally {
      mine?.remove();
      other?.remove();
    }
    expect(groupDirs(mine!).some((d) => fs.existsSync(d))).toBe(false);
  });
});
