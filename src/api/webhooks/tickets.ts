// Finding the work item a Gitea event belongs to, from branch names and PR titles.
import type { AppConfig, ProjectConfig } from '../../config';

/** `feature/SHOP-42-slug`, `shop-42-slug`, `fix/SHOP-42` → `SHOP-42` when the prefix is the project's. */
export function ticketFromBranch(branch: string, project: ProjectConfig): string | undefined {
  const name = branch.replace(/^refs\/heads\//, '');
  const match = new RegExp(`(?:^|/)(${project.ticketPrefix})-([1-9][0-9]{0,8})(?=-|$)`, 'i').exec(name);
  return match ? `${project.ticketPrefix}-${match[2]}` : undefined;
}

/** Pull requests opened by the orchestrator are titled `SHOP-42: ...`. */
export function ticketFromTitle(title: string, project: ProjectConfig): string | undefined {
  const match = new RegExp(`^\\s*(${project.ticketPrefix})-([1-9][0-9]{0,8})\\b`).exec(title);
  return match ? `${project.ticketPrefix}-${match[2]}` : undefined;
}

export function projectByGiteaRepository(config: AppConfig, fullName: string): [string, ProjectConfig] | undefined {
  const wanted = fullName.toLowerCase();
  return Object.entries(config.projects).find(([, p]) => p.gitea?.repository.toLowerCase() === wanted);
}

export function projectByPlaneId(config: AppConfig, planeProjectId: string): [string, ProjectConfig] | undefined {
  return Object.entries(config.projects).find(([, p]) => p.plane?.projectId === planeProjectId);
}
