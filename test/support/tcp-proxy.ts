// A TCP pass-through on 127.0.0.1 in front of a server (Temporal, for the intake tests): it can
// refuse connections (the server "is down") or hold each answer back (a slow server), so a test
// decides when and how fast traffic flows without touching the server itself.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly address: string;
  /** Closed: new connections are dropped and open ones cut. */
  setOpen(open: boolean): void;
  /** Each chunk from the server is passed on after this long. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function tcpProxy(target: string): Promise<TcpProxy> {
  const index = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, index), Number(target.slice(index + 1))];
  let open = true;
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (delayMs === 0) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), delayMs);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    setOpen(value) {
      open = value;
      if (!value) for (const s of sockets) s.destroy();
    },
    setDelay(ms) {
      delayMs = ms;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
