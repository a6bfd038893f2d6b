import type { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** One line per problem, each naming the source (file or environment) and the field. */
export function formatIssues(source: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `  ${source}: ${field}: ${issue.message}`;
  });
  return `invalid configuration:\n${lines.join('\n')}`;
}
