// The artifacts gate: the stage's contract (src/domain/artifacts.ts) checked on the item's
// branch, plus the reviewer rule that code changes travel with docs or CHANGELOG.
import YAML from 'yaml';
import { ADR_FILE_PATTERN, ARTIFACT_CONTRACT, workItemDocsDir, type GateOutcome, type Stage } from '../../domain';
import type { GitMirror } from '../git/repository';
import { readVerdict } from './frontmatter';

export interface ArtifactCheckInput {
  readonly mirror: GitMirror;
  readonly ticket: string;
  readonly stage: Stage;
  readonly branch: string;
  readonly defaultBranch: string;
}

export async function checkArtifacts(input: ArtifactCheckInput): Promise<GateOutcome> {
  const { mirror, ticket, stage, branch } = input;
  const ref = `refs/heads/${branch}`;
  if (!(await mirror.hasRef(ref))) return fail([`branch ${branch} does not exist in the repository`]);
  const dir = workItemDocsDir(ticket);
  // A broken contract (missing file, unreadable verdict) is a FAIL whatever the verdicts say;
  // a well-formed failing verdict sends the work back with the artifact's own text.
  const breaches: string[] = [];
  const verdictFindings: string[] = [];

  for (const spec of ARTIFACT_CONTRACT[stage]) {
    const file = `${dir}/${spec.path}`;
    if (spec.path.endsWith('/')) {
      const adrs = (await mirror.listDir(ref, file)).filter((name) => ADR_FILE_PATTERN.test(name));
      if (adrs.length === 0) breaches.push(`${file}: no ADR file named like ADR-001-some-decision.md`);
      continue;
    }
    const text = await mirror.show(ref, file);
    if (text === undefined) {
      breaches.push(`${file} is missing on ${branch}`);
      continue;
    }
    if (file.endsWith('.yaml') || file.endsWith('.yml')) {
      try {
        if (YAML.parse(text) == null) breaches.push(`${file} is empty`);
      } catch (err) {
        breaches.push(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
      continue;
    }
    if (text.trim() === '') {
      breaches.push(`${file} is empty`);
      continue;
    }
    if (!spec.verdict) continue;
    const reading = readVerdict(file, text, spec.verdict);
    if (!reading.ok) {
      breaches.push(reading.finding);
      continue;
    }
    if (reading.value === spec.verdict.fail) {
      verdictFindings.push(`${file}: ${spec.verdict.field} ${reading.value}`, ...(reading.body ? [reading.body] : []));
    }
  }
  if (breaches.length > 0) return fail([...breaches, ...verdictFindings]);
  if (verdictFindings.length > 0)
    return { gate: 'artifacts', verdict: stage === 'review' ? 'REQUEST_CHANGES' : 'FAIL', findings: verdictFindings };

  if (stage === 'review') {
    const missing = await docsRule(input);
    if (missing) return { gate: 'artifacts', verdict: 'REQUEST_CHANGES', findings: [missing] };
  }
  if (stage === 'development') {
    const changed = await mirror.changedFiles(`refs/heads/${input.defaultBranch}`, ref);
    if (changed.length === 0) return fail([`${branch} has no changes against ${input.defaultBranch}`]);
  }
  return { gate: 'artifacts', verdict: 'PASS', findings: [] };
}

function fail(findings: string[]): GateOutcome {
  return { gate: 'artifacts', verdict: 'FAIL', findings };
}

/** Rule 2 of the passport: code that changes without docs/ or CHANGELOG.md is sent back. */
async function docsRule(input: ArtifactCheckInput): Promise<string | undefined> {
  const changed = await input.mirror.changedFiles(`refs/heads/${input.defaultBranch}`, `refs/heads/${input.branch}`);
  const isWorkItemArtifact = (f: string) => f.startsWith('docs/work-items/');
  const isDoc = (f: string) =>
    !isWorkItemArtifact(f) && (f.startsWith('docs/') || f === 'CHANGELOG.md' || f.endsWith('.md'));
  const code = changed.filter((f) => !isWorkItemArtifact(f) && !isDoc(f));
  if (code.length === 0 || changed.some(isDoc)) return undefined;
  return `code changed (${code.slice(0, 5).join(', ')}${code.length > 5 ? ', …' : ''}) but neither docs/ nor CHANGELOG.md: documentation travels with the code`;
}
