// A full garbage collection in every V8 isolate of this process, for the bench's memory figure:
// the main thread's (global.gc, from --expose-gc) and each worker thread's, through the
// inspector's NodeWorker domain. The Temporal SDK runs workflows in worker threads of its own,
// which global.gc does not reach: without this, the garbage the workflows left there since their
// thread's last collection would count as memory the waiting workflows hold, a different amount
// on every run.
import inspector from 'node:inspector';

/** How long one thread may take to answer before the collection is given up as failed. */
const ANSWER_WITHIN_MS = 30_000;

export interface HeapsInUse {
  /** Bytes of V8 heap in use in the main thread after its collection. */
  readonly main: number;
  /** Bytes of V8 heap in use in all worker threads together after theirs. */
  readonly threads: number;
  /** Worker threads reached. */
  readonly threadCount: number;
}

interface WorkerAnswer {
  readonly id: number;
  readonly result?: { readonly usedSize?: number };
  readonly error?: { readonly message?: string };
}

export async function collectGarbageEverywhere(): Promise<HeapsInUse> {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  const workers: string[] = [];
  const waiting = new Map<number, (answer: WorkerAnswer) => void>();
  let lastId = 0;
  session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string } }) => workers.push(m.params.sessionId));
  session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
    const answer = JSON.parse(m.params.message) as WorkerAnswer;
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  /** One inspector command run in a worker thread: its answer, or an error after ANSWER_WITHIN_MS. */
  const inWorker = async (sessionId: string, method: string): Promise<WorkerAnswer> => {
    const id = ++lastId;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<WorkerAnswer>((resolve, reject) => {
      waiting.set(id, resolve);
      timer = setTimeout(() => reject(new Error(`a worker thread did not answer ${method}`)), ANSWER_WITHIN_MS);
    });
    try {
      await post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) });
      const answer = await answered;
      if (answer.error) throw new Error(`${method} in a worker thread: ${answer.error.message ?? 'failed'}`);
      return answer;
    } finally {
      clearTimeout(timer);
      waiting.delete(id);
    }
  };
  try {
    // Attaching reports the threads that exist before enable() returns.
    await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    let threads = 0;
    for (const sessionId of workers) {
      await inWorker(sessionId, 'HeapProfiler.collectGarbage');
      threads += (await inWorker(sessionId, 'Runtime.getHeapUsage')).result?.usedSize ?? 0;
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('the main thread cannot collect its garbage: start node with --expose-gc');
    gc();
    return { main: process.memoryUsage().heapUsed, threads, threadCount: workers.length };
  } finally {
    await post('NodeWorker.disable').catch(() => undefined);
    session.disconnect();
  }
}
