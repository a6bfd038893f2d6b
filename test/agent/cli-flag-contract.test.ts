// The pinned Claude Code CLI still accepts every flag the runner passes, for every role, for a
// new session and for a resumed one, with the task prompt on stdin. An upgrade of the CLI that
// drops or renames a flag fails here rather than in production.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentEnvironment, claudeArgs, claudeBinary } from '../../src/activities/agent/command';
import { nameBasedUuid } from '../../src/activities/agent/session';
import { loadRolePrompt } from '../../src/activities/agent/prompt';
import { newStreamState, readStreamLine } from '../../src/activities/agent/stream';
import { loadEnv } from '../../src/config/env';
import { ROLES, ROLE_PERMISSIONS } from '../../src/domain';
import { startScriptedModelServer, type ScriptedModelServer } from '../../src/dev/scripted-model/server';

jest.setTimeout(180_000);

let model: ScriptedModelServer;
beforeAll(async () => {
  model = await startScriptedModelServer([{ text: 'Nothing to do.' }]);
});
afterAll(async () => {
  await model?.close();
});

/** Runs the CLI asynchronously: the scripted model answers from this same process. */
async function run(args: string[], home: string, cwd: string) {
  const env = loadEnv({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-scripted-dummy-key' });
  const child = spawn(claudeBinary(env), args, { cwd, env: agentEnvironment(env, home) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end('Say whether there is anything to do.');
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const stream = newStreamState();
  for (const line of stdout.split('\n')) readStreamLine(stream, line);
  return { status, stderr, stream };
}

test.each(ROLES)("the %s role's flags are accepted, new and resumed", async (role) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-contract-home-'));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-contract-ws-'));
  const id = nameBasedUuid(`contract/${role}/${Date.now()}`);
  const common = {
    rolePrompt: loadRolePrompt(role).text,
    permissions: ROLE_PERMISSIONS[role],
    model: 'claude-scripted',
    maxBudgetUsd: 1,
    maxTurns: 5,
  };

  const fresh = await run(claudeArgs({ ...common, session: { mode: 'new', id } }), home, cwd);
  expect({ status: fresh.status, stderr: fresh.stderr.includes('error:') ? fresh.stderr : '' }).toEqual({
    status: 0,
    stderr: '',
  });
  expect(fresh.stream.result).toMatchObject({ subtype: 'success', isError: false });
  expect(fresh.stream.sessionId).toBe(id);

  const resumed = await run(claudeArgs({ ...common, session: { mode: 'resume', id } }), home, cwd);
  expect(resumed.status).toBe(0);
  expect(resumed.stream.sessionId).toBe(id);
});

test('an unknown flag is refused, so the contract above can fail', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-contract-home-'));
  const result = await run(['-p', '--output-format', 'stream-json', '--verbose', '--no-such-flag'], home, os.tmpdir());
  expect(result.status).not.toBe(0);
  expect(result.stderr).toMatch(/unknown option/i);
});
