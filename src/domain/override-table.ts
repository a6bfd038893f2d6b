// Every override in one table: its kind (the audit record's word, the CLI and comment verb), the
// name of its workflow update (a wire contract), and how its words are read. The CLI, the
// tracker comment commands and webhook dispatch all go through this table, so an override has
// one spelling and one set of argument rules.
import type { OverrideKind } from './work-item';

export type OverrideUpdateName = 'approve' | 'retry' | 'skipGate' | 'rollback' | 'cancel' | 'topUpBudget' | 'pause';

export interface OverrideSpec {
  readonly kind: OverrideKind;
  readonly updateName: OverrideUpdateName;
  /** Words after the verb (and after the ticket, on the CLI), in order. */
  readonly positional: readonly ('gate' | 'toStage' | 'amountUsd')[];
  readonly reasonRequired: boolean;
  /** What a person types after the verb. */
  readonly usage: string;
}

export const OVERRIDE_TABLE: Readonly<Record<OverrideKind, OverrideSpec>> = {
  approve: { kind: 'approve', updateName: 'approve', positional: [], reasonRequired: false, usage: '[reason]' },
  retry: { kind: 'retry', updateName: 'retry', positional: [], reasonRequired: false, usage: '[reason]' },
  'skip-gate': {
    kind: 'skip-gate',
    updateName: 'skipGate',
    positional: ['gate'],
    reasonRequired: true,
    usage: '<gate> <reason>',
  },
  rollback: {
    kind: 'rollback',
    updateName: 'rollback',
    positional: ['toStage'],
    reasonRequired: false,
    usage: '<stage> [reason]',
  },
  cancel: { kind: 'cancel', updateName: 'cancel', positional: [], reasonRequired: false, usage: '[reason]' },
  'top-up': {
    kind: 'top-up',
    updateName: 'topUpBudget',
    positional: ['amountUsd'],
    reasonRequired: false,
    usage: '<usd> [reason]',
  },
  pause: { kind: 'pause', updateName: 'pause', positional: [], reasonRequired: false, usage: '[reason]' },
};

export function overrideSpec(verb: string): OverrideSpec | undefined {
  return Object.hasOwn(OVERRIDE_TABLE, verb) ? OVERRIDE_TABLE[verb as OverrideKind] : undefined;
}

/** An override's arguments without `by` (who asks is added by whoever carries it out). */
export interface OverrideRequest {
  readonly kind: OverrideKind;
  readonly args: {
    readonly reason?: string;
    readonly gate?: string;
    readonly toStage?: string;
    readonly amountUsd?: number;
  };
}

export type ParsedOverride =
  { readonly ok: true; readonly request: OverrideRequest } | { readonly ok: false; readonly error: string };

/**
 * Reads an override from its words: the positional ones first, then the reason (given apart, as
 * the CLI's --reason, or as the rest of the words, as in a comment).
 */
export function parseOverride(spec: OverrideSpec, words: readonly string[], reason?: string): ParsedOverride {
  if (words.length < spec.positional.length) return { ok: false, error: `${spec.kind} needs ${spec.usage}` };
  const args: { reason?: string; gate?: string; toStage?: string; amountUsd?: number } = {};
  for (const [i, name] of spec.positional.entries()) {
    const word = words[i] as string;
    if (name === 'amountUsd') {
      const amount = Number(word.replace(/^\$/, ''));
      if (!Number.isFinite(amount) || amount <= 0)
        return { ok: false, error: `${spec.kind}: ${JSON.stringify(word)} is not a dollar amount above 0` };
      args.amountUsd = amount;
    } else {
      args[name] = word;
    }
  }
  const rest = words.slice(spec.positional.length).join(' ').trim();
  const text = reason ?? (rest === '' ? undefined : rest);
  if (spec.reasonRequired && !text) return { ok: false, error: `${spec.kind} needs ${spec.usage}` };
  if (text !== undefined) args.reason = text;
  return { ok: true, request: { kind: spec.kind, args } };
}
