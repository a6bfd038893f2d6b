// docker-compose.yml is for production users; no Docker engine runs here, so it is validated
// against the Compose specification (and safety rules) with dclint, and its wiring is checked.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { hostRouting } from '../../src/config';
import { loadEnv } from '../../src/config/env';

const ROOT = path.resolve(__dirname, '../..');
/** The compose file's services, as far as these checks read them. */
type Services = Record<
  string,
  {
    image?: string;
    command?: string[];
    entrypoint?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    profiles?: string[];
    healthcheck?: { test?: string[] };
    depends_on?: Record<string, { condition: string }>;
  }
>;

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

  test("follows Temporal's layout: postgres, schema job, server, namespaces job, UI, then the orchestrator", () => {
    const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    const services = compose.services as Services;
    const after = (name: string) => services[name]?.depends_on;
    expect(services.postgresql?.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U temporal']);
    expect(after('temporal-schema')).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(after('temporal')).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(after('temporal-namespaces')).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(after('temporal-ui')).toMatchObject({ temporal: { condition: 'service_healthy' } });
    for (const name of [
      'orchestrator-api',
      'orchestrator-worker',
      'orchestrator-staging-api',
      'orchestrator-staging-worker',
    ])
      expect(after(name)).toMatchObject({ 'temporal-namespaces': { condition: 'service_completed_successfully' } });
    expect(services['orchestrator-api']?.command).toEqual(['node', 'dist/api/main.js']);
    expect(services['orchestrator-worker']?.command).toEqual(['node', 'dist/worker/main.js']);
    for (const name of ['orchestrator-staging-api', 'orchestrator-staging-worker']) {
      expect(services[name]?.profiles).toEqual(['staging']);
      expect(services[name]?.environment).toMatchObject({ TEMPORAL_NAMESPACE: 'staging' });
    }
    expect(services['temporal-namespaces']?.environment).toMatchObject({ TEMPORAL_NAMESPACES: 'default staging' });
    // Worker Versioning (ADR-0028): a replaced worker container takes the routing, and the
    // release's replay gate is the command scripts/release-worker.sh runs.
    for (const name of ['orchestrator-worker', 'orchestrator-staging-worker'])
      expect(services[name]?.environment).toMatchObject({ ORCH_WORKER_PROMOTE: 'always' });
    const check = services['orchestrator-release-check']?.command ?? [];
    expect(check.slice(0, 2)).toEqual(['node', 'dist/cli/orch.js']);
    expect(fs.readFileSync(path.join(ROOT, 'scripts/release-worker.sh'), 'utf8')).toContain(
      `orch ${check.slice(2).join(' ')}`,
    );
    expect(compose.services['temporal-setup']).toBeUndefined();
    expect(JSON.stringify(compose)).not.toContain('auto-setup');
  });

  test('its jobs and server run the scripts and config that scripts/production-temporal.sh and the tests run', () => {
    const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    const services = compose.services as Services;
    const mountedConfig = (name: string) => {
      const volume = (services[name]?.volumes ?? []).find((v) => v.startsWith('./temporal-config:'));
      return volume?.split(':')[1] as string;
    };
    const inRepo = (name: string, file: string) =>
      path.join(ROOT, 'temporal-config', path.relative(mountedConfig(name), file));
    const native = fs.readFileSync(path.join(ROOT, 'scripts/production-temporal.sh'), 'utf8');
    for (const [job, script] of [
      ['temporal-schema', 'setup-schema.sh'],
      ['temporal-namespaces', 'create-namespaces.sh'],
    ] as const) {
      const command = services[job]?.command ?? [];
      expect(inRepo(job, command[0] as string)).toBe(path.join(ROOT, 'temporal-config', script));
      expect(native).toContain(`temporal-config/${script}`);
    }
    // The server: the project's config file, and every variable compose sets is one it reads.
    const entry = services.temporal?.entrypoint ?? [];
    const configDir = path.join(
      entry[entry.indexOf('--root') + 1] as string,
      entry[entry.indexOf('--config') + 1] as string,
    );
    const env = entry[entry.indexOf('--env') + 1] as string;
    const config = inRepo('temporal', path.join(configDir, `${env}.yaml`));
    expect(config).toBe(path.join(ROOT, 'temporal-config/server/production.yaml'));
    expect(native).toContain('--config temporal-config/server --env production');
    const read = new Set([...fs.readFileSync(config, 'utf8').matchAll(/env "([A-Z_]+)"/g)].map((m) => m[1]));
    for (const name of Object.keys(services.temporal?.environment ?? {}))
      expect({ name, read: read.has(name) }).toEqual({ name, read: true });
    // Its default dynamic config path is where compose mounts the project's file.
    expect(fs.readFileSync(config, 'utf8')).toContain(`${mountedConfig('temporal')}/dynamicconfig/production.yaml`);
  });

  test('pins the server version the toolchain builds, and Node 22 LTS', () => {
    const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    const pinned = /TEMPORAL_SERVER_VERSION="([\d.]+)"/.exec(
      fs.readFileSync(path.join(ROOT, 'scripts/toolchain.sh'), 'utf8'),
    )?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(compose.services.temporal.image).toBe(`temporalio/server:${pinned}`);
    for (const job of ['temporal-schema', 'temporal-namespaces'])
      expect(compose.services[job].image).toMatch(new RegExp(`^temporalio/admin-tools:${pinned}-`));
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect([...dockerfile.matchAll(/^FROM (node:\S+)/gm)].map((m) => m[1])).toEqual([
      'node:22-bookworm-slim',
      'node:22-bookworm-slim',
    ]);
    // Every file the Dockerfile copies exists in the repository.
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources!.split(' '))
        expect({ source, exists: fs.existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
    }
  });

  test('the production dynamic config only says what differs from the defaults', () => {
    const dynamic = YAML.parse(
      fs.readFileSync(path.join(ROOT, 'temporal-config/dynamicconfig/production.yaml'), 'utf8'),
    );
    expect(Object.keys(dynamic)).toEqual([
      'limit.maxIDLength',
      'matching.enableFairness',
      'matching.numTaskqueueReadPartitions',
      'matching.numTaskqueueWritePartitions',
    ]);
    // One partition for exactly the claim queues the default settings use (ADR-0021).
    const routing = hostRouting(loadEnv({}));
    for (const key of ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions']) {
      const queues = (dynamic[key] as { value: number; constraints: { taskQueueName: string } }[]).map((c) => [
        c.constraints.taskQueueName,
        c.value,
      ]);
      expect(queues).toEqual([
        [routing.agentQueue, 1],
        [routing.buildQueue, 1],
      ]);
    }
  });
});
