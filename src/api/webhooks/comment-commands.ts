// Operator commands written as tracker comments: `/<verb> …` for every override of the override
// table (src/domain/override-table.ts): `/approve [reason]`, `/retry [reason]`,
// `/skip-gate <gate> <reason>`, `/rollback <stage> [reason]`, `/cancel [reason]`,
// `/top-up <usd> [reason]`.
import { overrideSpec, parseOverride, type OverrideRequest } from '../../domain';

export type CommentCommand =
  { readonly ok: true; readonly request: OverrideRequest } | { readonly ok: false; readonly error: string };

/**
 * The first line of the comment decides; anything that does not start with `/` is not a command.
 * Only ASCII counts: a fullwidth slash or a lookalike letter never makes a command.
 */
export function parseCommentCommand(text: string): CommentCommand | undefined {
  const line = text.trim().split('\n', 1)[0]?.trim() ?? '';
  const match = /^\/([a-z-]+)(?:\s+(.*))?$/.exec(line);
  if (!match) return undefined;
  const [, verb = '', rest = ''] = match;
  const spec = overrideSpec(verb);
  if (!spec) return { ok: false, error: `unknown command /${verb}` };
  const parsed = parseOverride(spec, rest.trim() === '' ? [] : rest.trim().split(/\s+/));
  return parsed.ok ? parsed : { ok: false, error: `/${parsed.error}` };
}
