// A call the SDK is retrying when its connection closes: with the guard it fails with CANCELLED;
// without it the retry's timer throws an uncaught "Channel has been shut down" and the call never
// settles (seen in CI, where such a throw fails whichever test file runs next in the worker).
import { Client, Connection } from '@temporalio/client';
import {
  CLOSED_DETAILS,
  closedChannelGuardPlugin,
  guardedGrpcInterceptors,
} from '../../src/temporal/closed-channel-guard';

// Nothing listens on port 1: the call fails UNAVAILABLE and the SDK retries it after a backoff.
const guarded: [string, () => Connection][] = [
  ['the interceptors', () => Connection.lazy({ address: '127.0.0.1:1', interceptors: guardedGrpcInterceptors() })],
  [
    'the plugin (test environments)',
    () => Connection.lazy({ address: '127.0.0.1:1', plugins: [closedChannelGuardPlugin] }),
  ],
];

/** A describe() of a workflow that does not exist, settled as its answer or its error. */
function describeCall(client: Client): Promise<unknown> {
  return client.workflow
    .getHandle('no-such-workflow')
    .describe()
    .then(
      () => 'answered',
      (err: unknown) => err,
    );
}

/**
 * Runs `scenario`, which returns the call's settled value (or 'never settled' after its own
 * wait), and checks that it failed because the connection was closed, with nothing thrown from
 * a timer or callback meanwhile (nor for a while after).
 */
async function expectClosedFailure(scenario: () => Promise<unknown>): Promise<void> {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const settled = await scenario();
    expect(settled).toBeInstanceOf(Error);
    const chain: string[] = [];
    for (let e: unknown = settled; e; e = (e as { cause?: unknown }).cause) chain.push(String((e as Error).message));
    expect(chain.join(' ← ')).toContain(CLOSED_DETAILS);
    await new Promise((r) => setTimeout(r, 500));
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
}

function within(ms: number, call: Promise<unknown>): Promise<unknown> {
  return Promise.race([call, new Promise((r) => setTimeout(() => r('never settled'), ms))]);
}

test.each(guarded)(
  'guarded by %s, a call retried across the close of its connection fails, and nothing is thrown from a timer',
  (_how, open) =>
    expectClosedFailure(async () => {
      const connection = open();
      const call = describeCall(new Client({ connection }));
      await new Promise((r) => setTimeout(r, 150));
      await connection.close();
      // Unguarded, the call never settles: give it 10 s to say so instead of the test's timeout.
      return within(10_000, call);
    }),
);

test.each(guarded)(
  'guarded by %s, a call made after its connection closed fails at once, and nothing is thrown from a callback',
  (_how, open) =>
    expectClosedFailure(async () => {
      const connection = open();
      const client = new Client({ connection });
      await connection.close();
      // The SDK's retry interceptor threw "savedMessageNext is not a function" here (a call with
      // no answer at all on its first attempt) and the call never settled.
      return within(5_000, describeCall(client));
    }),
);
