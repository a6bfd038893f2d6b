import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, projectForTicket } from '../../src/config';
import { loadEnv } from '../../src/config/env';
import { parseProjects } from '../../src/config/projects';
import { testConfig } from '../support/config';

const valid = `
projects:
  shop:
    ticketPrefix: SHOP
    repository: /srv/git/shop.git
`;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('projects file', () => {
  test('fills defaults', () => {
    const shop = parseProjects(valid, 'projects.yaml').projects.shop!;
    expect(shop).toMatchObject({
      defaultBranch: 'main',
      budgetUsd: 20,
      limits: { maxReviewRejections: 3, maxGateRetries: 3 },
      gates: { security: true, merge: true, imageFreshness: true },
      commands: {},
    });
  });

  test.each([
    ['missing repository', 'projects:\n  shop:\n    ticketPrefix: SHOP\n', 'projects.yaml: projects.shop.repository:'],
    [
      'bad prefix',
      'projects:\n  shop:\n    ticketPrefix: shop\n    repository: x\n',
      'projects.yaml: projects.shop.ticketPrefix: must be upper-case',
    ],
    [
      'bad key',
      'projects:\n  Shop:\n    ticketPrefix: SHOP\n    repository: x\n',
      'projects.yaml: projects.Shop: project keys are lower-case',
    ],
    ['negative budget', `${valid}    budgetUsd: -1\n`, 'projects.yaml: projects.shop.budgetUsd:'],
    ['unknown field', `${valid}    colour: red\n`, 'projects.yaml: projects.shop: Unrecognized key: "colour"'],
    [
      'cap type',
      `${valid}    limits:\n      maxGateRetries: lots\n`,
      'projects.yaml: projects.shop.limits.maxGateRetries:',
    ],
    ['no projects', 'projects: {}\n', 'projects.yaml: projects: at least one project is required'],
    ['empty file', '', 'projects.yaml: projects:'],
    ['not yaml', 'projects: [unclosed', 'projects.yaml: not valid YAML'],
    [
      'duplicate prefix',
      `${valid}  shop2:\n    ticketPrefix: SHOP\n    repository: y\n`,
      'projects.yaml: projects.shop2.ticketPrefix: ticket prefix SHOP is already used by project shop',
    ],
  ])('%s is rejected with the file and field', (_name, text, expected) => {
    expect(errorOf(() => parseProjects(text, 'projects.yaml'))).toContain(expected);
  });

  test('each bad field gets its own line', () => {
    const message = errorOf(() =>
      parseProjects('projects:\n  shop:\n    ticketPrefix: s\n    budgetUsd: 0\n', 'p.yaml'),
    );
    expect(message.split('\n').filter((l) => l.startsWith('  p.yaml: '))).toHaveLength(3);
  });

  test('a missing file is named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-'));
    expect(errorOf(() => loadConfig({ ORCH_PROJECTS_FILE: 'nope.yaml' }, dir))).toContain(
      `${path.join(dir, 'nope.yaml')}: cannot read the projects file: ENOENT`,
    );
  });

  test('an observation window the gate timeout cannot hold is refused, naming both settings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-'));
    fs.writeFileSync(path.join(dir, 'projects.yaml'), `${valid}    observation:\n      windowMs: 600000\n`);
    expect(errorOf(() => loadConfig({ ORCH_GATE_TIMEOUT_MS: '600000' }, dir))).toBe(
      `${path.join(dir, 'projects.yaml')}: projects.shop.observation.windowMs (600000) must be shorter than ORCH_GATE_TIMEOUT_MS (600000)`,
    );
    expect(loadConfig({ ORCH_GATE_TIMEOUT_MS: '600001' }, dir).projects.shop?.observation.windowMs).toBe(600000);
  });
});

describe('merging through Gitea', () => {
  test('a project that merges through the Gitea API needs its URL and token at start', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-config-'));
    fs.writeFileSync(
      path.join(dir, 'projects.yaml'),
      `${valid}    gitea:\n      repository: acme/shop\n      mergeThroughApi: true\n`,
    );
    expect(errorOf(() => loadConfig({}, dir))).toBe(
      `${path.join(dir, 'projects.yaml')}: projects.shop.gitea.mergeThroughApi needs the Gitea API: set ORCH_GITEA_API_URL and ORCH_GITEA_TOKEN`,
    );
    const config = loadConfig({ ORCH_GITEA_API_URL: 'http://gitea.local:3000', ORCH_GITEA_TOKEN: 'x'.repeat(20) }, dir);
    expect(config.projects.shop?.gitea).toEqual({ repository: 'acme/shop', mergeThroughApi: true, operators: [] });
  });
});

describe('environment', () => {
  test('defaults', () => {
    expect(loadEnv({})).toMatchObject({
      ORCH_API_PORT: 8500,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      ORCH_TASK_QUEUE: 'orchestrator',
    });
  });

  test.each([
    [{ ORCH_API_PORT: 'eighty' }, 'environment: ORCH_API_PORT:'],
    [{ ORCH_API_PORT: '70000' }, 'environment: ORCH_API_PORT:'],
    [{ ORCH_LOG_LEVEL: 'loud' }, 'environment: ORCH_LOG_LEVEL:'],
    [{ ORCH_AGENT_TIMEOUT_MS: '-5' }, 'environment: ORCH_AGENT_TIMEOUT_MS:'],
  ])('%j is rejected naming the variable', (env, expected) => {
    expect(errorOf(() => loadEnv(env))).toContain(expected);
  });

  test('the shipped projects.yaml is valid', () => {
    const config = loadConfig({});
    expect(Object.keys(config.projects)).toContain('orchestrator');
  });
});

describe('ticket routing', () => {
  test('a ticket prefix selects its project', () => {
    const config = testConfig();
    expect(projectForTicket(config, 'SHOP-42')).toBe('shop');
    expect(() => projectForTicket(config, 'NOPE-1')).toThrow(/no configured project has ticket prefix NOPE/);
    expect(() => projectForTicket(config, '../x')).toThrow(/invalid ticket id/);
  });
});

test('a build command without a way to read the built revision is refused when image freshness is on', () => {
  const yaml =
    'projects:\n  shop:\n    ticketPrefix: SHOP\n    repository: /srv/shop.git\n    commands:\n      build: docker build .\n';
  expect(() => parseProjects(yaml, 'projects.yaml')).toThrow(
    /projects\.shop\.commands\.builtRevision: the image-freshness gate needs commands\.builtRevision/,
  );
  expect(() => parseProjects(`${yaml}    gates:\n      imageFreshness: false\n`, 'projects.yaml')).not.toThrow();
});
