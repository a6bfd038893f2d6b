import { isPlaneTriggered, namedLabels } from '../../src/tracker/plane-trigger';

test('a trigger label matches whatever its case; a bare label id matches once its name is known', () => {
  const trigger = { triggerLabel: 'Agent' };
  expect(isPlaneTriggered(trigger, undefined, [{ id: 'l1', name: 'AGENT' }])).toBe(true);
  expect(isPlaneTriggered(trigger, undefined, [{ id: 'l1', name: 'agents' }])).toBe(false);
  // The list API's ids: unknown ids never match, known ones match by name.
  expect(isPlaneTriggered(trigger, undefined, ['l1'])).toBe(false);
  expect(isPlaneTriggered(trigger, undefined, namedLabels(['l1', 'l2'], new Map([['l2', 'agent']])))).toBe(true);
  expect(isPlaneTriggered({ triggerState: 's1' }, 's1', [])).toBe(true);
});
