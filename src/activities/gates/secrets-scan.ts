// Secret scan with gitleaks over the commits the item adds (default..branch), before any rebase,
// so an item is never blamed for what an updated default branch brought in. A tool error fails
// closed: the secrets guarantee does not depend on the scanner working.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, resolveTool } from '../../config/paths';
import { loadExeca } from '../../util/execa';
import type { GitMirror } from '../git/repository';

export interface SecretFinding {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly commit: string;
}

export type SecretScan =
  | { readonly ok: true; readonly findings: readonly SecretFinding[]; readonly tool: string; readonly config: string }
  | { readonly ok: false; readonly error: string; readonly tool: string };

export async function scanSecrets(
  mirror: Pick<GitMirror, 'dir' | 'show'>,
  baseRef: string,
  headRef: string,
  gitleaks = resolveTool('gitleaks'),
): Promise<SecretScan> {
  const { execa } = await loadExeca();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-gitleaks-'));
  try {
    const version = await execa(gitleaks, ['version'], { reject: false });
    const tool = version.exitCode === 0 ? `gitleaks ${String(version.stdout).trim()}` : 'gitleaks (unavailable)';
    // The repository's own rules win, as its default branch has them: an item (an agent) cannot
    // weaken the scan by committing a permissive .gitleaks.toml on its own branch.
    const own = await mirror.show(baseRef, '.gitleaks.toml');
    const configPath = path.join(tmp, 'gitleaks.toml');
    fs.writeFileSync(configPath, own ?? fs.readFileSync(path.join(PROJECT_ROOT, '.gitleaks.toml'), 'utf8'));
    const reportPath = path.join(tmp, 'report.json');
    const result = await execa(
      gitleaks,
      [
        'git',
        mirror.dir,
        '--log-opts',
        `${baseRef}..${headRef}`,
        '--config',
        configPath,
        '--report-format',
        'json',
        '--report-path',
        reportPath,
        '--redact',
        '--no-banner',
        '--exit-code',
        '2',
        '--log-level',
        'error',
      ],
      { reject: false, timeout: 10 * 60 * 1000 },
    );
    if (result.failed && result.exitCode === undefined)
      return {
        ok: false,
        tool,
        error: `gitleaks could not run: ${(result.shortMessage ?? '').replace(gitleaks, 'gitleaks')}`,
      };
    if (result.exitCode !== 0 && result.exitCode !== 2) {
      return {
        ok: false,
        tool,
        error: `gitleaks failed (exit ${result.exitCode}): ${String(result.stderr).trim().split('\n').slice(-2).join(' ')}`,
      };
    }
    const raw = JSON.parse(fs.readFileSync(reportPath, 'utf8')) as {
      RuleID: string;
      File: string;
      StartLine: number;
      Commit: string;
    }[];
    // Only where, never what: the report and the findings carry no secret value.
    const findings = raw.map((r) => ({
      rule: r.RuleID,
      file: r.File,
      line: r.StartLine,
      commit: r.Commit.slice(0, 12),
    }));
    return {
      ok: true,
      findings,
      tool,
      config: own ? ".gitleaks.toml of the repository's default branch" : '.gitleaks.toml of the orchestrator',
    };
  } catch (err) {
    return { ok: false, tool: 'gitleaks', error: `gitleaks scan failed: ${(err as Error).message}` };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
