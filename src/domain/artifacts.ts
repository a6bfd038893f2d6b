// The artifact contract: which files each stage must leave in docs/work-items/<ticket>/ on the
// item's branch, and which frontmatter field carries the machine verdict. Verdicts live only in
// YAML frontmatter, never in prose; a missing file, missing field or unknown value fails closed.
import type { Stage } from './stages';

export interface VerdictSpec {
  readonly field:
    'verdict' | 'deploy_status' | 'staging_status' | 'security_status' | 'observation_status' | 'rollback_status';
  /** The value that lets the item along the edge. */
  readonly pass: string;
  /** The value that sends the work back (as a failure, or REQUEST_CHANGES for the reviewer). */
  readonly fail: string;
}

export interface ArtifactSpec {
  /** Path under docs/work-items/<ticket>/; a trailing `/` means a folder of ADR files. */
  readonly path: string;
  readonly verdict?: VerdictSpec;
}

export const ADR_FILE_PATTERN = /^ADR-\d{3}-[a-z0-9][a-z0-9-]*\.md$/;

export const ARTIFACT_CONTRACT: Readonly<Record<Stage, readonly ArtifactSpec[]>> = {
  created: [],
  analysis: [
    { path: '00-business-request.md' },
    { path: '01-brd.md' },
    { path: '02-trz.md' },
    { path: '03-acceptance-criteria.md' },
    { path: '04-test-plan.yaml' },
  ],
  architecture: [
    { path: '06-adr/' },
    { path: '07-infra-requirements.md' },
    { path: '08-data-requirements.md' },
    { path: '10-tech-risks.md' },
  ],
  // The developer's output is code, docs and CHANGELOG on the branch, checked by the review rule.
  development: [],
  review: [{ path: '12-review.md', verdict: { field: 'verdict', pass: 'APPROVE', fail: 'REQUEST_CHANGES' } }],
  testing: [{ path: '13-test-report.md', verdict: { field: 'verdict', pass: 'PASS', fail: 'FAIL' } }],
  'deploy-staging': [
    { path: '15-staging-log.md', verdict: { field: 'staging_status', pass: 'SUCCESS', fail: 'FAILED' } },
  ],
  // 16-post-deploy-log.md is written by the observation gate, after this contract is checked.
  deploy: [{ path: '14-deploy-log.md', verdict: { field: 'deploy_status', pass: 'SUCCESS', fail: 'FAILED' } }],
  done: [],
};

/** Written (and read back) by the observation gate, which runs after the deploy's artifacts gate. */
export const OBSERVATION_REPORT: ArtifactSpec = {
  path: '16-post-deploy-log.md',
  verdict: { field: 'observation_status', pass: 'HEALTHY', fail: 'DEGRADED' },
};

export const SECURITY_REPORT: ArtifactSpec = {
  path: '17-security-report.md',
  verdict: { field: 'security_status', pass: 'PASS', fail: 'FAIL' },
};

/** Written by a production rollback a person asked for (rolling the item back from deploy). */
export const ROLLBACK_REPORT: ArtifactSpec = {
  path: '18-rollback-log.md',
  verdict: { field: 'rollback_status', pass: 'ROLLED_BACK', fail: 'FAILED' },
};

export function workItemDocsDir(ticket: string): string {
  return `docs/work-items/${ticket}`;
}
