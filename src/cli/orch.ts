#!/usr/bin/env node
// The `orch` operator command.
import { runCli } from './main';

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`orch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
