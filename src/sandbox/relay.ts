// The first process inside an agent sandbox. The sandbox has its own network namespace with
// nothing but loopback, so this relay listens on 127.0.0.1:<port> there and carries every
// connection to the egress proxy's Unix socket, which the worker bound into the sandbox. The
// proxy outside decides what may pass. Then it runs the command and exits as the command did.
// Node built-ins only: this file is bound into the sandbox alone, without node_modules.
//   node relay.js <port> <socket> <command> [args...]
import { spawn } from 'node:child_process';
import net from 'node:net';

function main(argv: string[]): void {
  const [portText, socketPath, command, ...args] = argv;
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || !socketPath || !command) {
    process.stderr.write('usage: relay.js <port> <socket> <command> [args...]\n');
    process.exit(2);
  }
  const server = net.createServer((inbound) => {
    const outbound = net.connect(socketPath);
    inbound.pipe(outbound).pipe(inbound);
    const close = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
  });
  server.on('error', (err) => {
    process.stderr.write(`sandbox relay: ${err.message}\n`);
    process.exit(70);
  });
  server.listen(port, '127.0.0.1', () => {
    const child = spawn(command, args, { stdio: 'inherit' });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
    child.on('error', (err) => {
      process.stderr.write(`sandbox relay: cannot start ${command}: ${err.message}\n`);
      process.exit(127);
    });
    child.on('exit', (code, signal) => {
      server.close();
      // Mirror the command's end: the runner classifies a killed CLI by its signal.
      if (signal) {
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      }
      process.exit(code ?? 1);
    });
  });
}

main(process.argv.slice(2));
