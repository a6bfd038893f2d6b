// Operator commands written as tracker comments: `/approve [reason]`, `/retry [reason]`,
// `/skip-gate <gate> <reason>`, `/rollback <stage> [reason]`, `/cancel [reason]`.
import type { OverrideName } from './actions';

export type CommentCommand =
  | { readonly ok: true; readonly name: OverrideName; readonly args: Record<string, string | undefined> }
  | { readonly ok: false; readonly error: string };

/** The first line of the comment decides; anything that does not start with `/` is not a command. */
export function parseCommentCommand(text: string): CommentCommand | undefined {
  const line = text.trim().split('\n', 1)[0]?.trim() ?? '';
  const match = /^\/([a-z-]+)(?:\s+(.*))?$/.exec(line);
  if (!match) return undefined;
  const [, verb, rest = ''] = match;
  const words = rest.trim() === '' ? [] : rest.trim().split(/\s+/);
  const tail = (from: number): string | undefined => (words.length > from ? words.slice(from).join(' ') : undefined);
  switch (verb) {
    case 'approve':
      return { ok: true, name: 'approve', args: { reason: tail(0) } };
    case 'retry':
      return { ok: true, name: 'retry', args: { reason: tail(0) } };
    case 'cancel':
      return { ok: true, name: 'cancel', args: { reason: tail(0) } };
    case 'skip-gate':
      if (words.length < 2) return { ok: false, error: '/skip-gate needs a gate and a reason: /skip-gate <gate> <reason>' };
      return { ok: true, name: 'skipGate', args: { gate: words[0], reason: tail(1) } };
    case 'rollback':
      if (words.length < 1) return { ok: false, error: '/rollback needs a stage: /rollback <stage> [reason]' };
      return { ok: true, name: 'rollback', args: { toStage: words[0], reason: tail(1) } };
    default:
      return { ok: false, error: `unknown command /${verb}` };
  }
}
