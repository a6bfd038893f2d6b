// The `orch` command's process-independent core: runs one command and reports an exit code.
import type { Client } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { InvalidIdError } from '../domain';
import { describeClientError } from '../client/errors';
import { connectClient } from '../client/connection';
import { parse, runCommand } from './commands';
import { CliError } from './context';
import { printable } from './printable';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/** 0 success, 1 the operation failed (server down, unknown ticket, rejected override), 2 bad usage or config. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let client: Client | undefined;
  const json = (() => {
    try {
      return parse(argv).values.json === true;
    } catch {
      return false;
    }
  })();
  try {
    const config = loadConfig(io.env);
    const output = await runCommand(argv, {
      config,
      env: io.env,
      client: async () => {
        if (!client) {
          client = await connectClient(config);
        }
        return client;
      },
    });
    io.stdout(json ? JSON.stringify(output.json, null, 2) : printable(output.text));
    return 0;
  } catch (err) {
    const usage = err instanceof CliError || err instanceof ConfigError || err instanceof InvalidIdError;
    const message = usage ? (err as Error).message : describeClientError(err);
    io.stderr(json ? JSON.stringify({ error: message }) : `orch: ${printable(message)}`);
    return usage ? 2 : 1;
  } finally {
    await client?.connection.close();
  }
}
