// Refs read from a repository's files (loose ref files and packed-refs, git's default "files"
// ref storage) instead of a git process each time: the runner asks a few such questions per agent
// run, and on a small machine each git process costs 5-20 ms. Whenever the files cannot answer
// for certain (another ref storage, a symbolic ref, something unexpected), the answer is
// `undefined` and the caller asks git itself.
import fs from 'node:fs';
import path from 'node:path';

const OBJECT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/;

/**
 * The commit each of `refs` (full names, `refs/...`) points at, for those that exist; undefined
 * when the files cannot tell.
 */
export function refsFromFiles(gitDir: string, refs: readonly string[]): Map<string, string> | undefined {
  // reftable (git 2.45+) keeps refs in binary tables; a repository that uses it is left to git.
  if (fs.existsSync(path.join(gitDir, 'reftable'))) return undefined;
  let packed: Map<string, string> | 'unreadable' | undefined;
  const found = new Map<string, string>();
  for (const ref of refs) {
    if (!ref.startsWith('refs/') || ref.split('/').some((part) => part === '' || part === '..')) return undefined;
    const loose = readFileOrMissing(path.join(gitDir, ref));
    if (loose === 'unreadable') return undefined;
    if (loose !== 'missing') {
      const id = OBJECT_ID.exec(loose)?.[1];
      // A symbolic ref, or a file being written by an older git that does not rename into place.
      if (id === undefined) return undefined;
      found.set(ref, id);
      continue;
    }
    packed ??= packedRefs(gitDir);
    if (packed === 'unreadable') return undefined;
    const id = packed.get(ref);
    if (id !== undefined) found.set(ref, id);
  }
  return found;
}

/** The commit HEAD names when it is a branch with a commit; undefined when the files cannot tell. */
export function headFromFiles(gitDir: string): string | undefined {
  const head = readFileOrMissing(path.join(gitDir, 'HEAD'));
  if (head === 'missing' || head === 'unreadable') return undefined;
  const ref = /^ref: (refs\/heads\/\S+)\n?$/.exec(head)?.[1];
  if (ref === undefined) return undefined;
  return refsFromFiles(gitDir, [ref])?.get(ref);
}

function packedRefs(gitDir: string): Map<string, string> | 'unreadable' {
  const refs = new Map<string, string>();
  const text = readFileOrMissing(path.join(gitDir, 'packed-refs'));
  if (text === 'unreadable') return text;
  if (text === 'missing') return refs;
  for (const line of text.split('\n')) {
    // '#' starts the header, '^' the peeled object of the annotated tag above it.
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

/** A file's text; 'missing' when there is no such file (or a directory of refs is in its place). */
function readFileOrMissing(file: string): string | 'missing' | 'unreadable' {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EISDIR: refs/heads/a is a directory when refs/heads/a/b exists, so there is no ref a.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return 'missing';
    return 'unreadable';
  }
}
