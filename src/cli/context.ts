// What every orch command receives and returns, and its error type: shared by the command table
// and the commands kept in modules of their own (workspaces), so neither imports the other.
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';

/** A usage or input error: printed without a stack, exit code 2. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface CommandContext {
  readonly config: AppConfig;
  readonly client: () => Promise<Client>;
  readonly env: NodeJS.ProcessEnv;
}

export interface CommandOutput {
  readonly json: unknown;
  readonly text: string;
}
