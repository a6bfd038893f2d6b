// Registers the work items' search attributes on a server that already has a database:
// `temporal server start-dev --search-attribute` only applies when the database file is new.
import { CLI_TYPE_NAMES, WORK_ITEM_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { loadExeca } from '../util/execa';

export function searchAttributeFlags(): string[] {
  return WORK_ITEM_SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${CLI_TYPE_NAMES[key.type]}`,
  ]);
}

/** Creates the attributes the namespace lacks, through `temporal operator search-attribute`. Returns the names created. */
export async function ensureSearchAttributes(binary: string, address: string, namespace: string): Promise<string[]> {
  const { execa } = await loadExeca();
  const common = ['--address', address, '--namespace', namespace];
  const listed = await execa(binary, ['operator', 'search-attribute', 'list', ...common, '--output', 'json']);
  const existing = new Set(Object.keys(customAttributes(JSON.parse(listed.stdout))));
  const created: string[] = [];
  for (const key of WORK_ITEM_SEARCH_ATTRIBUTES) {
    if (existing.has(key.name)) continue;
    await execa(binary, [
      'operator',
      'search-attribute',
      'create',
      ...common,
      '--name',
      key.name,
      '--type',
      CLI_TYPE_NAMES[key.type] as string,
    ]);
    created.push(key.name);
  }
  return created;
}

function customAttributes(listing: unknown): Record<string, unknown> {
  const l = listing as { customAttributes?: Record<string, unknown> };
  return l?.customAttributes ?? {};
}
