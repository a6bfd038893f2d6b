// Whether the OSV advisory feed can be reached at all, asked once in a few seconds before an
// online audit. osv-scanner retries an unreachable feed with backoff for about 20 s whatever the
// error; a closed network answers this probe at once. Through HTTPS_PROXY the proxy is what must
// answer (the scanner goes through it too).
import net from 'node:net';

export const OSV_FEED = { host: 'api.osv.dev', port: 443 } as const;

/** undefined when reachable, else why not (in the words osv-scanner would use). */
export async function feedUnreachable(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 3000,
): Promise<string | undefined> {
  const proxy = env.HTTPS_PROXY ?? env.https_proxy;
  let target: { host: string; port: number } = OSV_FEED;
  if (proxy) {
    try {
      const url = new URL(proxy);
      target = { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    } catch {
      return `HTTPS_PROXY is not a URL (${proxy.slice(0, 80)})`;
    }
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (reason: string | undefined): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`dial tcp ${target.host}:${target.port}: i/o timeout`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(
        `dial tcp ${target.host}:${target.port}: ${err.code ?? err.message}${proxy ? ' (through HTTPS_PROXY)' : ''}`,
      ),
    );
  });
}
