// What each agent role may do in the item's checkout. Read-only roles get no Write/Edit; Bash is
// allowed where the role must run the project's commands (developer builds, tester runs tests).
// Claude Code is started with `--tools` (the tools that exist for the run) and `--allowedTools`
// (those approved without a prompt: in print mode an unapproved call is refused, never asked).
import type { Role, Stage } from './stages';

export interface RolePermissions {
  readonly permissionMode: 'acceptEdits' | 'default' | 'plan';
  readonly tools: readonly string[];
  readonly allowedTools: readonly string[];
}

const WRITE = ['Read', 'Write', 'Edit', 'Glob', 'Grep'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, RolePermissions>> = {
  analyst: { permissionMode: 'acceptEdits', tools: WRITE, allowedTools: WRITE },
  architect: { permissionMode: 'acceptEdits', tools: WRITE, allowedTools: WRITE },
  developer: { permissionMode: 'acceptEdits', tools: [...WRITE, 'Bash'], allowedTools: [...WRITE, 'Bash'] },
  reviewer: {
    permissionMode: 'acceptEdits',
    tools: [...WRITE, 'Bash'],
    allowedTools: [...WRITE, 'Bash(git diff:*)', 'Bash(git log:*)', 'Bash(git show:*)'],
  },
  tester: { permissionMode: 'acceptEdits', tools: [...WRITE, 'Bash'], allowedTools: [...WRITE, 'Bash'] },
  deployer: { permissionMode: 'acceptEdits', tools: [...WRITE, 'Bash'], allowedTools: [...WRITE, 'Bash'] },
};

/** Conventional Commit type of the commit that records a stage's work. */
export function stageCommitType(stage: Stage): 'docs' | 'feat' | 'test' | 'chore' {
  if (stage === 'development') return 'feat';
  if (stage === 'testing') return 'test';
  if (stage === 'deploy-staging' || stage === 'deploy') return 'chore';
  return 'docs';
}

export function stageCommitMessage(ticket: string, stage: Stage, role: Role, attempt: number): string {
  const retry = attempt > 1 ? ` (attempt ${attempt})` : '';
  return `${stageCommitType(stage)}(${ticket}): ${stage} by the ${role} agent${retry}`;
}
