// Reads the machine verdict from an artifact's YAML frontmatter. Anything but a well-formed
// frontmatter with a known value is a finding: gates fail closed.
import YAML from 'yaml';
import type { VerdictSpec } from '../../domain';

export type VerdictReading =
  | { readonly ok: true; readonly value: string; readonly body: string; readonly data: Record<string, unknown> }
  | { readonly ok: false; readonly finding: string };

/** `---` on the first line, the YAML, a closing `---` on a line of its own, then the body. */
const FRONTMATTER = /^---\r?\n(?:([\s\S]*?)\r?\n)?---[ \t]*(?:\r?\n|$)/;

export function readVerdict(file: string, text: string, spec: VerdictSpec): VerdictReading {
  if (!/^---\r?\n/.test(text))
    return {
      ok: false,
      finding: `${file}: no YAML frontmatter (it must start with ---); ${spec.field} cannot be read`,
    };
  const match = FRONTMATTER.exec(text);
  if (!match)
    return { ok: false, finding: `${file}: frontmatter is not closed by a --- line; ${spec.field} cannot be read` };
  let parsed: unknown;
  try {
    parsed = YAML.parse(match[1] ?? '');
  } catch (err) {
    return { ok: false, finding: `${file}: frontmatter is not valid YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  const data =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const value = data[spec.field];
  if (value === undefined || value === null || value === '')
    return { ok: false, finding: `${file}: frontmatter has no ${spec.field}` };
  if (typeof value !== 'string' || (value !== spec.pass && value !== spec.fail)) {
    return {
      ok: false,
      finding: `${file}: ${spec.field} is ${JSON.stringify(value)}; expected ${spec.pass} or ${spec.fail}`,
    };
  }
  return { ok: true, value, body: text.slice(match[0].length).trim(), data };
}
