import { HostSlots } from '../../src/hosts/host-slots';
import { priorityKeyOf } from '../../src/domain';

const settle = () => new Promise((r) => setImmediate(r));

test('a host polls its claim queue only while a slot is free, and a claim keeps the slot for its run', async () => {
  const slots = new HostSlots('agents', 1, 60_000);
  await slots.reserveForPoll(new AbortController().signal);
  let second = false;
  const waiting = slots.reserveForPoll(new AbortController().signal).then(() => (second = true));
  await settle();
  expect(second).toBe(false);
  // The claim arrives on the first poll: its slot becomes a hold, the poll's reservation ends.
  const slotId = slots.hold();
  slots.releasePoll();
  await settle();
  expect(second).toBe(false);
  expect(slots.use()).toMatchObject({ held: 1, running: 0 });
  const release = slots.startRun(slotId);
  expect(slots.use()).toMatchObject({ held: 0, running: 1 });
  await settle();
  expect(second).toBe(false);
  release();
  release(); // idempotent
  await waiting;
  expect(second).toBe(true);
  expect(slots.use()).toMatchObject({ held: 0, running: 0 });
});

test('a hold no run redeems expires and frees its slot', async () => {
  jest.useFakeTimers();
  try {
    const slots = new HostSlots('builds', 1, 1_000);
    slots.hold();
    let polled = false;
    const poll = slots.reserveForPoll(new AbortController().signal).then(() => (polled = true));
    await Promise.resolve();
    expect(polled).toBe(false);
    jest.advanceTimersByTime(1_001);
    await poll;
    expect(polled).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

test('a retry on the host runs without a hold (it was admitted once) and counts while it runs', () => {
  const slots = new HostSlots('agents', 1, 60_000);
  const first = slots.startRun(undefined);
  const second = slots.startRun('expired-slot');
  expect(slots.use()).toMatchObject({ running: 2 });
  first();
  second();
  expect(slots.use()).toMatchObject({ running: 0 });
});

test('an aborted poll reservation rejects with the abort reason and takes no slot', async () => {
  const slots = new HostSlots('agents', 1, 60_000);
  slots.hold();
  const abort = new AbortController();
  const waiting = slots.reserveForPoll(abort.signal);
  const reason = new Error('poller shutting down');
  abort.abort(reason);
  await expect(waiting).rejects.toBe(reason);
  expect(slots.use()).toMatchObject({ held: 1, running: 0 });
});

test('priority keys come from 1-5 or the Plane priority names', () => {
  expect(priorityKeyOf('urgent')).toBe(1);
  expect(priorityKeyOf('High')).toBe(2);
  expect(priorityKeyOf('none')).toBeUndefined();
  expect(priorityKeyOf(undefined)).toBeUndefined();
  expect(priorityKeyOf('4')).toBe(4);
  expect(() => priorityKeyOf(9)).toThrow('priority must be 1 (first) to 5 (last)');
  expect(() => priorityKeyOf('constructor')).toThrow('unknown priority');
});
