// docker-compose.yml is for production users; no Docker engine runs here, so it is validated
// against the Compose specification (and safety rules) with dclint, and its wiring is checked.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const DCLINT = path.join(ROOT, 'node_modules', '.bin', 'dclint');

async function dclint(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await promisify(execFile)(DCLINT, [file, '--max-warnings', '0'], { cwd: ROOT });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: `${e.stdout}${e.stderr}` };
  }
}

describe('docker-compose.yml', () => {
  test('is valid Compose with no lint errors or warnings', async () => {
    const result = await dclint(path.join(ROOT, 'docker-compose.yml'));
    expect(result.output.trim()).toBe('');
    expect(result.code).toBe(0);
  });

  test('the validator rejects an invalid file (the check can fail)', async () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-')), 'docker-compose.yml');
    fs.writeFileSync(bad, 'services:\n  api:\n    image: orchestrator:1\n    port: 8500\n');
    const result = await dclint(bad);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('invalid-schema');
  });

  test('runs Temporal on PostgreSQL with the Web UI, API, worker, search-attribute setup and a staging profile', () => {
    const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    const services = compose.services as Record<string, Record<string, unknown>>;
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:\d/);
    expect(services['orchestrator-api']?.command).toEqual(['node', 'dist/api/main.js']);
    expect(services['orchestrator-worker']?.command).toEqual(['node', 'dist/worker/main.js']);
    expect(services['temporal-setup']?.command).toEqual(
      expect.arrayContaining(['/config/register-search-attributes.sh', '/config/search-attributes.json']),
    );
    for (const name of ['orchestrator-staging-api', 'orchestrator-staging-worker']) {
      expect(services[name]?.profiles).toEqual(['staging']);
      expect(services[name]?.environment).toMatchObject({ TEMPORAL_NAMESPACE: 'staging' });
    }
    // Every file the compose file and Dockerfile mount or copy exists in the repository.
    expect(fs.existsSync(path.join(ROOT, 'temporal-config/dynamicconfig/production.yaml'))).toBe(true);
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources!.split(' '))
        expect({ source, exists: fs.existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
    }
  });

  test('the setup script registers exactly the attributes of search-attributes.json', async () => {
    // Run the production script against a fake `temporal` that records its calls.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sa-setup-'));
    const log = path.join(dir, 'calls.log');
    fs.writeFileSync(
      path.join(dir, 'temporal'),
      `#!/bin/sh\necho "$@" >> ${log}\ncase "$*" in *"search-attribute list"*) echo "OrchProject Keyword";; esac\n`,
      { mode: 0o755 },
    );
    await promisify(execFile)(
      'sh',
      [
        path.join(ROOT, 'temporal-config/register-search-attributes.sh'),
        'temporal:7233',
        'default',
        path.join(ROOT, 'temporal-config/search-attributes.json'),
      ],
      {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      },
    );
    const created = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('search-attribute create'))
      .map((l) => l.replace(/.*--name (\S+) --type (\S+).*/, '$1=$2'));
    expect(created).toEqual([
      'OrchStage=Keyword',
      'OrchTicket=Keyword',
      'OrchBlocked=Bool',
      'OrchAttempt=Int',
      'OrchCost=Double',
    ]);
  });
});
