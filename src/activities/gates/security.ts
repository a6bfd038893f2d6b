// The security gate (first on the edge into deploy-staging): secret scan + dependency audit.
// The verdict is written to docs/work-items/<ticket>/17-security-report.md on the item's branch
// and read back; that file is the single source of truth, and a report that does not read back
// valid is a FAIL. The gate never deploys and never pushes to the default branch.
import { log } from '@temporalio/activity';
import YAML from 'yaml';
import { SECURITY_REPORT, workItemDocsDir, type GateOutcome } from '../../domain';
import { auditDependencies, type DependencyAudit } from './dependency-audit';
import { readVerdict } from './frontmatter';
import type { GitMirror } from '../git/repository';
import type { GateContext } from './types';
import { scanSecrets, type SecretScan } from './secrets-scan';

export async function runSecurityGate(ctx: GateContext): Promise<GateOutcome> {
  const base = `refs/heads/${ctx.project.defaultBranch}`;
  const head = `refs/heads/${ctx.branch}`;
  if (!(await ctx.mirror.hasRef(head)))
    return { gate: 'security', verdict: 'FAIL', findings: [`branch ${ctx.branch} does not exist in the repository`] };
  const strict = ctx.project.gates.dependencyAuditStrict;
  const secrets = await scanSecrets(ctx.mirror, base, head);
  const audit = await auditDependencies(ctx.mirror, head, { strict, offlineDb: ctx.config.env.ORCH_OSV_DB_DIR });
  for (const warning of audit.warnings) log.warn('security gate warning', { ticket: ctx.input.ticket, warning });
  const findings = [...secretFindings(secrets), ...audit.findings];
  const status = findings.length === 0 ? 'PASS' : 'FAIL';

  const file = `${workItemDocsDir(ctx.input.ticket)}/${SECURITY_REPORT.path}`;
  const report = renderReport({ status, secrets, audit, strict, range: `${ctx.project.defaultBranch}..${ctx.branch}` });
  await ctx.mirror.commitFile(
    ctx.repositoryUrl,
    ctx.branch,
    file,
    report,
    `docs(${ctx.input.ticket}): security report (${status})`,
  );

  return verdictFromReport(ctx.mirror, head, file, findings, audit.warnings);
}

/**
 * The gate's verdict is what the report on the branch says, read back: a report that is missing
 * or does not parse is a FAIL, whatever the scans found.
 */
export async function verdictFromReport(
  mirror: GitMirror,
  head: string,
  file: string,
  findings: readonly string[],
  warnings: readonly string[],
): Promise<GateOutcome> {
  const written = await mirror.show(head, file);
  const reading = written === undefined ? undefined : readVerdict(file, written, SECURITY_REPORT.verdict!);
  if (!reading || !reading.ok)
    return {
      gate: 'security',
      verdict: 'FAIL',
      findings: [reading && !reading.ok ? reading.finding : `${file} could not be read back`],
    };
  if (reading.value !== 'PASS')
    return {
      gate: 'security',
      verdict: 'FAIL',
      findings: findings.length > 0 ? [...findings] : [`${file}: security_status ${reading.value}`],
    };
  return { gate: 'security', verdict: 'PASS', findings: [...warnings] };
}

function secretFindings(scan: SecretScan): string[] {
  if (!scan.ok) return [`secret scan could not complete, failing closed: ${scan.error}`];
  return scan.findings.map(
    (f) =>
      `secret: rule ${f.rule} in ${f.file}:${f.line} (commit ${f.commit}); remove it from the branch history and rotate it`,
  );
}

interface ReportInput {
  readonly status: 'PASS' | 'FAIL';
  readonly secrets: SecretScan;
  readonly audit: DependencyAudit;
  readonly strict: boolean;
  readonly range: string;
}

function renderReport(r: ReportInput): string {
  const frontmatter = {
    security_status: r.status,
    scanned_range: r.range,
    secrets_found: r.secrets.ok ? r.secrets.findings.length : null,
    secret_scan_error: r.secrets.ok ? null : r.secrets.error,
    secret_findings: r.secrets.ok
      ? r.secrets.findings.map((f) => ({ rule: f.rule, file: f.file, line: f.line, commit: f.commit }))
      : [],
    dependency_findings: r.audit.findings,
    dependency_audit: r.audit.status,
    mode: r.strict ? 'strict' : 'default',
    warnings: r.audit.warnings,
    tools: { secrets: r.secrets.tool, dependencies: r.audit.tool },
  };
  const body = [
    '# Security report',
    '',
    `Secret scan of \`${r.range}\`: ${r.secrets.ok ? `${r.secrets.findings.length} finding(s)` : `failed (${r.secrets.error})`}.`,
    `Dependency audit: ${r.audit.status}${r.audit.warnings.length > 0 ? ` (warnings: ${r.audit.warnings.join('; ')})` : ''}.`,
    '',
    'Machine verdict: `security_status` in the frontmatter above. Secret values are never recorded here.',
    '',
  ].join('\n');
  return `---\n${YAML.stringify(frontmatter)}---\n\n${body}`;
}
