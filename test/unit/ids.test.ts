import {
  InvalidIdError,
  assertProjectKey,
  assertTicketId,
  itemBranch,
  parseWorkItemWorkflowId,
  workItemWorkflowId,
} from '../../src/domain';

describe('ids', () => {
  test('workflow ids are work-item/<project>/<ticket>', () => {
    expect(workItemWorkflowId('shop', 'SHOP-42')).toBe('work-item/shop/SHOP-42');
    expect(parseWorkItemWorkflowId('work-item/shop/SHOP-42')).toEqual({ project: 'shop', ticket: 'SHOP-42' });
  });

  test.each(['SHOP-42', 'ORCH-1', 'A1-999999999'])('accepts ticket %s', (t) => expect(assertTicketId(t)).toBe(t));

  test.each([
    'shop-42',
    'SHOP-0',
    'SHOP-',
    '-42',
    'SHOP-42/..',
    '../SHOP-42',
    'SHOP-42\n',
    'SHOP_42',
    'SHOP-1e3',
    'ŠHOP-1',
    '',
  ])('rejects ticket %j', (t) => expect(() => assertTicketId(t)).toThrow(InvalidIdError));

  test.each(['shop', 'a', 'web-shop', 'orchestrator2'])('accepts project %s', (p) =>
    expect(assertProjectKey(p)).toBe(p),
  );

  test.each(['Shop', 'shop-', '-shop', 'sh op', 'shop/..', '..', 'a'.repeat(41), ''])('rejects project %j', (p) =>
    expect(() => assertProjectKey(p)).toThrow(/invalid project key/),
  );

  test('parsing rejects foreign or traversing ids', () => {
    expect(() => parseWorkItemWorkflowId('work-item/shop/SHOP-42/extra')).toThrow(InvalidIdError);
    expect(() => parseWorkItemWorkflowId('lease/shop')).toThrow(InvalidIdError);
    expect(() => parseWorkItemWorkflowId('work-item/../SHOP-42')).toThrow(InvalidIdError);
  });
});

describe('item branch', () => {
  test.each([
    ['SHOP-42', 'Apply coupon codes at checkout', 'feature/SHOP-42-apply-coupon-codes-at-checkout'],
    ['SHOP-7', 'Café: naïve "quotes" & <tags>!', 'feature/SHOP-7-cafe-naive-quotes-tags'],
    ['SHOP-8', '../../etc/passwd', 'feature/SHOP-8-etc-passwd'],
    ['SHOP-9', '—', 'feature/SHOP-9'],
    [
      'SHOP-10',
      'A very long title that goes on and on beyond forty characters',
      'feature/SHOP-10-a-very-long-title-that-goes-on-and-on-be',
    ],
  ])('%s %j → %s', (ticket, title, branch) => expect(itemBranch(ticket, title)).toBe(branch));
});
