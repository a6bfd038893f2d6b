// The only way out of an agent sandbox: an HTTP proxy on a Unix socket that the sandbox's relay
// reaches. It answers three kinds of requests:
//   - a plain request for a path (`POST /v1/messages`): the model API. It is forwarded to the
//     configured endpoint with the worker's credentials put in, so the key never enters the
//     sandbox (the CLI inside holds a placeholder);
//   - `CONNECT host:port` (HTTPS through HTTPS_PROXY): tunnelled when the host is allowed;
//   - an absolute-form request (`GET http://host/...`, plain HTTP through HTTP_PROXY): forwarded
//     when the host is allowed.
// Everything else is refused with 403, logged with its destination and counted.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface EgressPolicy {
  /** The Messages API endpoint (ANTHROPIC_BASE_URL or the API's default); none for a project command. */
  readonly modelUrl?: URL;
  /** Headers that carry the model credentials; they replace whatever the sandbox sent. */
  readonly modelHeaders: Readonly<Record<string, string>>;
  /** `host` (ports 80 and 443) or `host:port`, from projects.yaml `agents.sandbox.allowHosts`. */
  readonly allowHosts: readonly string[];
  /** The relay's own address inside the sandbox: absolute-form requests to it are model requests. */
  readonly relayAuthority: string;
}

export interface DeniedConnection {
  readonly destination: string;
  readonly method: string;
}

export interface EgressProxy {
  readonly socketPath: string;
  /** Connections refused so far. */
  readonly denied: readonly DeniedConnection[];
  close(): Promise<void>;
}

/** The credential headers a sandboxed client may send; all are replaced or removed. */
const CREDENTIAL_HEADERS = ['x-api-key', 'authorization', 'proxy-authorization'];
/** Hop-by-hop headers a proxy must not forward. */
const HOP_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

export function hostAllowed(allowHosts: readonly string[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowHosts.some((entry) => {
    const e = entry.toLowerCase();
    const colon = e.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(e.slice(colon + 1)))
      return e.slice(0, colon) === h && Number(e.slice(colon + 1)) === port;
    return e === h && (port === 443 || port === 80);
  });
}

export async function startEgressProxy(
  socketPath: string,
  policy: EgressPolicy,
  onDenied: (denied: DeniedConnection) => void,
): Promise<EgressProxy> {
  const denied: DeniedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const deny = (method: string, destination: string): void => {
    const entry = { method, destination: destination.slice(0, 300) };
    denied.push(entry);
    try {
      onDenied(entry);
    } catch {
      // Reporting must never take the worker down: the refusal stands either way.
    }
  };

  const toModel = (req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string): void => {
    if (!policy.modelUrl) {
      deny(req.method ?? 'GET', 'the model API');
      return refuse(res, 403, 'this sandbox has no model API');
    }
    forward(req, res, modelTarget(policy.modelUrl, pathAndQuery), policy.modelHeaders);
  };

  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    if (target.startsWith('/')) return toModel(req, res, target);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return refuse(res, 400, 'not a request this proxy forwards');
    }
    if (url.host === policy.relayAuthority) return toModel(req, res, `${url.pathname}${url.search}`);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (url.protocol !== 'http:' || !hostAllowed(policy.allowHosts, url.hostname, port)) {
      deny(req.method ?? 'GET', `${url.hostname}:${port}`);
      return refuse(res, 403, `the agent sandbox does not allow ${url.hostname}:${port}`);
    }
    return forward(req, res, url, {});
  });

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const authority = req.url ?? '';
    const colon = authority.lastIndexOf(':');
    const host = colon > 0 ? authority.slice(0, colon) : authority;
    const port = colon > 0 ? Number(authority.slice(colon + 1)) : 443;
    if (!host || !Number.isInteger(port) || !hostAllowed(policy.allowHosts, host, port)) {
      deny('CONNECT', authority);
      client.end(
        'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\nthe agent sandbox does not allow this destination\n',
      );
      return;
    }
    const upstream = net.connect(port, host.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    const close = (): void => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      close();
    });
    client.on('error', close);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The sandbox's user is not the worker's: it must be able to connect.
  fs.chmodSync(socketPath, 0o666);
  return {
    socketPath,
    denied,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          fs.rmSync(socketPath, { force: true });
          resolve();
        });
      }),
  };
}

function modelTarget(modelUrl: URL, pathAndQuery: string): URL {
  const base = modelUrl.href.replace(/\/$/, '');
  return new URL(`${base}${pathAndQuery}`);
}

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: URL,
  inject: Readonly<Record<string, string>>,
): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_HEADERS.includes(name) || CREDENTIAL_HEADERS.includes(name)) continue;
    headers[name] = value;
  }
  Object.assign(headers, inject, { host: target.host });
  const client = target.protocol === 'https:' ? https : http;
  const upstream = client.request(target, { method: req.method, headers }, (answer) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined && !HOP_HEADERS.includes(name)) out[name] = value;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  upstream.on('error', (err) => refuse(res, 502, `upstream ${target.host}: ${err.message}`));
  req.on('aborted', () => upstream.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

function refuse(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ type: 'error', error: { type: 'sandbox_egress', message } }));
}
