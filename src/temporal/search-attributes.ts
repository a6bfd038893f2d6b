// Registers the work items' search attributes (src/domain/search-attributes.ts) in a namespace
// through the SDK's operator service, adding only those it lacks. One code path for every
// server: the worker runs it at start for each namespace it serves (production, staging), and
// the dev server's start-up runs it too, so tests that list items before a worker starts work.
import type { ConnectionLike } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { WORK_ITEM_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED_TYPE: Readonly<Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType>> = {
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Adds the attributes `namespace` lacks; returns the names added (none when all were there).
 * `settleMs`: after the frontend lists new attributes, how long to wait for the server's other
 * services to see them too (see SEARCH_ATTRIBUTES_SETTLE_MS); 0 for the dev server, which reads
 * them fresh.
 */
export async function ensureSearchAttributes(
  connection: ConnectionLike,
  namespace: string,
  settleMs = 0,
): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = WORK_ITEM_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (listed.customAttributes ?? {})));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_TYPE[key.type]])),
    });
  } catch (err) {
    // Another worker starting at the same moment added them first: that is the wanted outcome.
    if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
  }
  await untilListed(
    connection,
    namespace,
    missing.map((key) => key.name),
  );
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  return missing.map((key) => key.name);
}

/**
 * A server on SQL visibility keeps new attributes in the namespace's record, which its services
 * read from a cache refreshed every ~10 s: until they see them, an item's upsert would fail its
 * workflow task. So registration ends when the frontend lists them (once per namespace's life).
 */
async function untilListed(connection: ConnectionLike, namespace: string, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + LISTED_WITHIN_MS;
  for (;;) {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    if (names.every((name) => name in (listed.customAttributes ?? {}))) return;
    if (Date.now() > deadline)
      throw new Error(
        `the search attributes ${names.join(', ')} were added to namespace ${namespace} but the server does not list them after ${LISTED_WITHIN_MS / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const LISTED_WITHIN_MS = 60_000;

/**
 * The history service checks an item's search-attribute upserts against its own copy of the
 * namespace's record, refreshed every 2 s by default (`system.namespaceCacheRefreshInterval`),
 * independently of the frontend that listed the new attributes. A worker that registered them and
 * then took an item at once failed that item's first workflow tasks (BadSearchAttributes: "no
 * mapping defined"), retried until the cache caught up. Two refreshes and a margin; only when
 * this worker added them (once per namespace's life). The CLI's dev server reads them fresh
 * (`system.forceSearchAttributesCacheRefreshOnRead`), so its start-up does not wait.
 */
export const SEARCH_ATTRIBUTES_SETTLE_MS = 5_000;

/** gRPC status ALREADY_EXISTS. */
const ALREADY_EXISTS = 6;
