// The bench's bounded concurrency: a load generator's deliveries in flight, or set-up work over
// many workflows (one by one it takes longer than the figure it prepares; all at once it floods
// the dev server).

/** Runs `work` over `items`, at most `limit` at a time; rejects with the first failure. */
export async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
