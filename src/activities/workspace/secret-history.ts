// A secret the security gate found stays in the item branch's history after the developer
// removes it from the files, and the gate scans every commit the item adds: the item could never
// pass again, and the sandboxed agent cannot rewrite history. So after an agent run, outside the
// sandbox: when the orchestrator's secret rules see a secret in the item's commits but not in a
// single commit of its current files, the item's commits are squashed into that one commit and
// the branch is pushed over its old head. The key must still be rotated: the old commits were
// pushed once.
import { scanSecrets } from '../gates/secrets-scan';
import type { Workspace } from './workspace';

export interface HistoryPurge {
  readonly squashed: boolean;
  /** The squashed commit, the branch's new head (only when squashed). */
  readonly head?: string;
  /** What was done and why, for the run's summary. */
  readonly detail?: string;
}

export async function purgeSecretHistory(
  workspace: Workspace,
  defaultBranch: string,
  message: string,
  gitleaks?: string,
): Promise<HistoryPurge> {
  const main = `refs/remotes/origin/${defaultBranch}`;
  // One commit's history is its files: a secret in it is still in them, and squashing cannot
  // help. Most agent runs end here, after this one git call, without starting the scanner.
  const commits = Number((await workspace.git('rev-list', '--count', 'HEAD', '--not', main)).trim());
  if (commits <= 1) return { squashed: false };
  const base = (await workspace.git('merge-base', 'HEAD', main)).trim();
  const history = await scanSecrets(workspace, base, 'HEAD', gitleaks);
  if (!history.ok || history.findings.length === 0) return { squashed: false };
  const before = (await workspace.git('rev-parse', 'HEAD')).trim();
  const squashed = await workspace.squashSince(
    base,
    `${message}\n\nThe item's commits are squashed into this one: an earlier one carried a secret, removed since.`,
  );
  const after = await scanSecrets(workspace, base, squashed, gitleaks);
  if (!after.ok || after.findings.length > 0) {
    // The secret is still in the files: history stays as it is and the gate reports it.
    await workspace.git('update-ref', `refs/heads/${workspace.branch}`, before);
    return { squashed: false };
  }
  const where = history.findings.map((f) => `${f.file}:${f.line} (commit ${f.commit})`).join(', ');
  return {
    squashed: true,
    head: squashed,
    detail: `a secret removed from the files was still in the item's history (${where}): its commits were squashed into ${squashed.slice(0, 12)}; rotate that secret`,
  };
}
