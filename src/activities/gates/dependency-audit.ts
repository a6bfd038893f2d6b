// Dependency audit with osv-scanner over the lockfile on the item's branch (npm's
// package-lock.json; ADR-0008). When the advisory feed cannot be reached the audit passes with a
// loud warning, unless the project is in strict mode; with ORCH_OSV_DB_DIR it reads an offline
// OSV database instead of the network.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTool } from '../../config/paths';
import { loadExeca } from '../../util/execa';
import type { GitMirror } from '../git/repository';
import { feedUnreachable } from './feed-probe';

export const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'] as const;

export interface DependencyAudit {
  readonly status: 'clean' | 'vulnerable' | 'feed-unreachable' | 'not-applicable' | 'error';
  readonly findings: readonly string[];
  readonly warnings: readonly string[];
  readonly tool: string;
}

interface OsvOutput {
  results?: {
    packages?: {
      package: { name: string; version: string; ecosystem: string };
      vulnerabilities?: { id: string; summary?: string }[];
    }[];
  }[];
}

const UNREACHABLE =
  /dial tcp|connection refused|no such host|i\/o timeout|network is unreachable|TLS handshake|context deadline exceeded|EOF|lookup .* on/i;

export async function auditDependencies(
  mirror: GitMirror,
  ref: string,
  options: { strict: boolean; offlineDb?: string; osvScanner?: string },
): Promise<DependencyAudit> {
  const { execa } = await loadExeca();
  const binary = options.osvScanner ?? resolveTool('osv-scanner');
  const version = await execa(binary, ['--version'], { reject: false });
  const tool =
    version.exitCode === 0
      ? `osv-scanner ${/\d+\.\d+\.\d+/.exec(String(version.stdout))?.[0] ?? '?'}`
      : 'osv-scanner (unavailable)';
  const lockfiles: [string, string][] = [];
  for (const name of LOCKFILES) {
    const text = await mirror.show(ref, name);
    if (text !== undefined) lockfiles.push([name, text]);
  }
  if (lockfiles.length === 0) return { status: 'not-applicable', findings: [], warnings: [], tool };

  const unreachable = options.offlineDb ? undefined : await feedUnreachable();
  if (unreachable) return feedUnreachableResult(unreachable, options.strict, tool);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-audit-'));
  try {
    const args = ['scan', 'source', '--format', 'json', '--verbosity', 'error'];
    for (const [name, text] of lockfiles) {
      fs.writeFileSync(path.join(tmp, name), text);
      args.push('--lockfile', path.join(tmp, name));
    }
    if (options.offlineDb) args.push('--offline-vulnerabilities');
    const result = await execa(binary, args, {
      reject: false,
      timeout: 10 * 60 * 1000,
      env: options.offlineDb ? { OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY: options.offlineDb } : {},
    });
    if (result.exitCode === 0 || result.exitCode === 1) {
      const output = JSON.parse(String(result.stdout) || '{}') as OsvOutput;
      const findings = (output.results ?? []).flatMap((r) =>
        (r.packages ?? []).flatMap((p) =>
          (p.vulnerabilities ?? []).map(
            (v) =>
              `dependency: ${p.package.name}@${p.package.version} (${p.package.ecosystem}) has ${v.id}${v.summary ? `: ${v.summary}` : ''}`,
          ),
        ),
      );
      return { status: findings.length > 0 ? 'vulnerable' : 'clean', findings, warnings: [], tool };
    }
    const stderr = String(result.stderr).trim().split('\n').slice(-3).join(' ');
    if (result.exitCode === undefined || !UNREACHABLE.test(stderr)) {
      return {
        status: 'error',
        findings: [`dependency audit failed (${result.exitCode ?? result.shortMessage}): ${stderr}`],
        warnings: [],
        tool,
      };
    }
    return feedUnreachableResult(stderr, options.strict, tool);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function feedUnreachableResult(why: string, strict: boolean, tool: string): DependencyAudit {
  const warning = `WARNING: the dependency advisory feed could not be reached (${why}); dependencies were NOT audited`;
  return strict
    ? { status: 'feed-unreachable', findings: [`${warning}; strict mode fails the gate`], warnings: [warning], tool }
    : { status: 'feed-unreachable', findings: [], warnings: [warning], tool };
}
