// The sample shop the demo and `npm run test:production` run items on: a small Node project with
// a bare origin, its commands, and its service deployed as local processes with health checks
// and an observation window.
import fs from 'node:fs';
import path from 'node:path';
import { runGit } from '../activities/git/repository';
import { SAMPLE_SERVICE } from './sample-service';
import { sampleCommandsYaml } from './scripted-model/pipeline-script';

export interface SampleProject {
  /** The key in projects.yaml. */
  readonly key: string;
  readonly ticketPrefix: string;
  readonly origin: string;
  /** Where the deployed services write their pid files. */
  readonly root: string;
  readonly stagingPort: number;
  readonly productionPort: number;
}

/** The project's entry under `projects:` in projects.yaml. */
export function sampleProjectYaml(p: SampleProject): string {
  const start = (port: number, name: string) =>
    JSON.stringify(
      `PORT=${port} PIDFILE=${path.join(p.root, `${p.key}-${name}.pid`)} setsid node server.js > /dev/null 2>&1 < /dev/null &`,
    );
  return [
    `  ${p.key}:`,
    `    ticketPrefix: ${p.ticketPrefix}`,
    `    repository: ${JSON.stringify(p.origin)}`,
    '    budgetUsd: 5',
    sampleCommandsYaml().trimEnd(),
    `      deployStaging: ${start(p.stagingPort, 'staging')}`,
    `      deployProduction: ${start(p.productionPort, 'production')}`,
    '      rollback: "echo rolled back"',
    '    health:',
    `      stagingUrl: http://127.0.0.1:${p.stagingPort}/health`,
    `      productionUrl: http://127.0.0.1:${p.productionPort}/health`,
    '      timeoutMs: 15000',
    '      intervalMs: 200',
    '    observation:',
    '      windowMs: 3000',
    '      probeIntervalMs: 500',
    '',
  ].join('\n');
}

/** Stops the staging and production services the sample's deploys started under `root`. */
export function stopSampleServices(root: string): void {
  const pidFiles = fs.existsSync(root) ? fs.readdirSync(root).filter((f) => /-(staging|production)\.pid$/.test(f)) : [];
  for (const file of pidFiles) {
    try {
      process.kill(Number(fs.readFileSync(path.join(root, file), 'utf8')), 'SIGTERM');
    } catch {
      // Gone already.
    }
  }
}

/** A small Node project with a bare origin, standing in for a team's repository; `seed` is its first commit. */
export async function createSampleRepository(root: string): Promise<{ origin: string; seed: string }> {
  const origin = path.join(root, 'shop.git');
  const seed = path.join(root, 'seed');
  await runGit(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  await runGit(['init', '--quiet', '--initial-branch=main', seed]);
  fs.mkdirSync(path.join(seed, 'src'));
  fs.writeFileSync(path.join(seed, 'README.md'), '# Shop\n\nA sample shop for the orchestrator demo.\n');
  fs.writeFileSync(path.join(seed, 'CHANGELOG.md'), '# Changelog\n');
  fs.writeFileSync(
    path.join(seed, 'src', 'cart.js'),
    'exports.total = (items) => items.reduce((sum, i) => sum + i.price, 0);\n',
  );
  fs.writeFileSync(path.join(seed, 'server.js'), SAMPLE_SERVICE);
  await runGit(['-C', seed, 'add', '--all']);
  await runGit(['-C', seed, 'commit', '--quiet', '-m', 'chore: sample shop']);
  await runGit(['-C', seed, 'push', '--quiet', origin, 'main']);
  const first = (await runGit(['-C', seed, 'rev-parse', 'HEAD'])).trim();
  fs.rmSync(seed, { recursive: true, force: true });
  return { origin, seed: first };
}
