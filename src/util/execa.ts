// execa 9 is ESM-only while this package compiles to CommonJS: load it with a real dynamic
// import (kept as import() by the node16 module setting) instead of require().
export type Execa = typeof import('execa', { with: { 'resolution-mode': 'import' } });

let loaded: Promise<Execa> | undefined;
export function loadExeca(): Promise<Execa> {
  loaded ??= import('execa');
  return loaded;
}
