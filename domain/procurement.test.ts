import { MAX_AMOUNT_MINOR } from './money';
import {
  CANCELLABLE_STATES,
  PURCHASE_STATES,
  checkReceipt,
  chooseUnitPrice,
  licenceReuseOffer,
  lineAmount,
  orderStateAfter,
  ordersByVendor,
  purchaseRoutingSubject,
  pricedTotal,
  requestStateAfter,
  serialKey,
  submittedAmountIssues,
  warrantyEndDate,
  type ContractPrice,
  type OrderState,
  type PriceInput,
  type ReceiptCheckInput,
} from './procurement';

describe('purchase states', () => {
  it('lists the states the purchase_requests table allows', () => {
    expect([...PURCHASE_STATES]).toEqual([
      'submitted', 'budget_check', 'authorize', 'ordering', 'partially_received', 'received', 'closed', 'rejected', 'cancelled',
    ]);
  });

  it('lets a requester cancel only until a purchase order is issued', () => {
    expect([...CANCELLABLE_STATES]).toEqual(['submitted', 'budget_check', 'authorize']);
    expect(PURCHASE_STATES.filter((s) => !(CANCELLABLE_STATES as readonly string[]).includes(s))).toEqual([
      'ordering', 'partially_received', 'received', 'closed', 'rejected', 'cancelled',
    ]);
  });
});

describe('chooseUnitPrice', () => {
  const contract = (contractId: string, unitPriceMinor: number, startsOn = '2026-01-01', endsOn = '2026-12-31', currency = 'EUR'): ContractPrice => ({
    contractId, unitPriceMinor, currency, startsOn, endsOn,
  });
  const base: PriceInput = { currency: 'EUR', onDate: '2026-06-15', list: { unitPriceMinor: 120_000, currency: 'EUR' }, contractPrices: [] };

  it('takes the list price when no contract price exists', () => {
    expect(chooseUnitPrice(base)).toEqual({ unitPriceMinor: 120_000, source: 'list', contractId: null });
  });

  it('lets a contract price in force beat the list price', () => {
    expect(chooseUnitPrice({ ...base, contractPrices: [contract('c-1', 99_500)] })).toEqual({ unitPriceMinor: 99_500, source: 'contract', contractId: 'c-1' });
  });

  it('takes a contract price in force even when it is above the list price', () => {
    expect(chooseUnitPrice({ ...base, contractPrices: [contract('c-1', 130_000)] })).toEqual({ unitPriceMinor: 130_000, source: 'contract', contractId: 'c-1' });
  });

  it.each([
    ['starts on the day', '2026-06-15', '2026-12-31', true],
    ['ends on the day', '2026-01-01', '2026-06-15', true],
    ['starts and ends on the day', '2026-06-15', '2026-06-15', true],
    ['ended the day before', '2026-01-01', '2026-06-14', false],
    ['starts the day after', '2026-06-16', '2026-12-31', false],
    ['ended last year', '2025-01-01', '2025-12-31', false],
    ['starts next year', '2027-01-01', '2027-12-31', false],
  ])('a contract that %s (%s to %s) is in force: %s', (_, startsOn, endsOn, inForce) => {
    const price = chooseUnitPrice({ ...base, contractPrices: [contract('c-1', 90_000, startsOn, endsOn)] });
    expect(price).toEqual(inForce ? { unitPriceMinor: 90_000, source: 'contract', contractId: 'c-1' } : { unitPriceMinor: 120_000, source: 'list', contractId: null });
  });

  it('ignores a contract price in another currency', () => {
    const price = chooseUnitPrice({ ...base, contractPrices: [contract('c-usd', 50_000, '2026-01-01', '2026-12-31', 'USD')] });
    expect(price).toEqual({ unitPriceMinor: 120_000, source: 'list', contractId: null });
  });

  it('takes the lowest of two contract prices in force', () => {
    const price = chooseUnitPrice({ ...base, contractPrices: [contract('c-a', 101_000), contract('c-b', 98_000), contract('c-c', 99_000)] });
    expect(price).toEqual({ unitPriceMinor: 98_000, source: 'contract', contractId: 'c-b' });
  });

  it('breaks a tie between equal contract prices by contract id, whatever the order given', () => {
    const tied = [contract('c-9', 98_000), contract('c-2', 98_000), contract('c-5', 98_000)];
    expect(chooseUnitPrice({ ...base, contractPrices: tied })).toMatchObject({ contractId: 'c-2' });
    expect(chooseUnitPrice({ ...base, contractPrices: [...tied].reverse() })).toMatchObject({ contractId: 'c-2' });
  });

  it('passes over a cheaper contract that has ended for one in force', () => {
    const price = chooseUnitPrice({ ...base, contractPrices: [contract('c-old', 10_000, '2025-01-01', '2026-06-14'), contract('c-now', 110_000)] });
    expect(price).toEqual({ unitPriceMinor: 110_000, source: 'contract', contractId: 'c-now' });
  });

  it('ignores a quoted price for a catalogue item', () => {
    expect(chooseUnitPrice({ ...base, quotedUnitPriceMinor: 1 })).toEqual({ unitPriceMinor: 120_000, source: 'list', contractId: null });
    expect(chooseUnitPrice({ ...base, contractPrices: [contract('c-1', 99_000)], quotedUnitPriceMinor: 1 })).toMatchObject({ source: 'contract' });
  });

  it('takes the quoted price for an item not in the catalogue', () => {
    expect(chooseUnitPrice({ ...base, list: null, quotedUnitPriceMinor: 45_000 })).toEqual({ unitPriceMinor: 45_000, source: 'quoted', contractId: null });
  });

  it('takes a quote of zero (a free item) as a price', () => {
    expect(chooseUnitPrice({ ...base, list: null, quotedUnitPriceMinor: 0 })).toEqual({ unitPriceMinor: 0, source: 'quoted', contractId: null });
  });

  it('refuses an item not in the catalogue without a quoted price', () => {
    expect(chooseUnitPrice({ ...base, list: null })).toEqual({ refusal: 'no quoted price for an item not in the catalogue' });
  });

  it('refuses a catalogue item listed in another currency without a contract price in the request currency', () => {
    const usdList = { unitPriceMinor: 130_000, currency: 'USD' };
    expect(chooseUnitPrice({ ...base, list: usdList })).toEqual({ refusal: 'no price in EUR' });
    expect(chooseUnitPrice({ ...base, list: usdList, quotedUnitPriceMinor: 100_000 })).toEqual({ refusal: 'no price in EUR' });
    expect(chooseUnitPrice({ ...base, list: usdList, contractPrices: [contract('c-usd', 90_000, '2026-01-01', '2026-12-31', 'USD')] })).toEqual({
      refusal: 'no price in EUR',
    });
  });

  it('prices a catalogue item listed in another currency from a contract in the request currency', () => {
    const price = chooseUnitPrice({ ...base, list: { unitPriceMinor: 130_000, currency: 'USD' }, contractPrices: [contract('c-eur', 115_000)] });
    expect(price).toEqual({ unitPriceMinor: 115_000, source: 'contract', contractId: 'c-eur' });
  });

  it('refuses, without throwing, a price that is not a whole amount of minor units or is beyond the largest amount', () => {
    expect(chooseUnitPrice({ ...base, list: { unitPriceMinor: 99.5, currency: 'EUR' } })).toEqual({
      refusal: 'the list price comes to EUR 99.5, beyond the largest amount accepted (EUR 100,000,000,000.00)',
    });
    expect(chooseUnitPrice({ ...base, list: null, quotedUnitPriceMinor: 2 ** 53 })).toMatchObject({ refusal: expect.stringMatching(/^the quoted price comes to EUR 90,071,992,547,409.92, beyond/) });
    expect(chooseUnitPrice({ ...base, contractPrices: [contract('c-1', MAX_AMOUNT_MINOR + 1)] })).toMatchObject({
      refusal: expect.stringMatching(/^the contract price of c-1 comes to EUR 100,000,000,000.01, beyond/),
    });
    expect(chooseUnitPrice({ ...base, list: { unitPriceMinor: MAX_AMOUNT_MINOR, currency: 'EUR' } })).toMatchObject({ unitPriceMinor: MAX_AMOUNT_MINOR });
  });
});

describe('lineAmount and pricedTotal', () => {
  it.each([
    [3, 0, 33_333, 99_999],
    [1, 0, 120_000, 120_000],
    [10, 4, 2_499, 14_994],
    [5, 5, 10_000, 0],
    [7, 0, 0, 0],
  ])('%i units, %i reused, at %i a unit is %i', (quantity, reusedUnits, unitPriceMinor, amount) => {
    expect(lineAmount({ quantity, reusedUnits, unitPriceMinor })).toBe(amount);
  });

  it('totals the lines exactly, leaving reused units out', () => {
    const lines = [
      { quantity: 3, reusedUnits: 0, unitPriceMinor: 33_333 },
      { quantity: 10, reusedUnits: 4, unitPriceMinor: 2_499 },
      { quantity: 2, reusedUnits: 2, unitPriceMinor: 50_000 },
      { quantity: 1, reusedUnits: 0, unitPriceMinor: 1 },
    ];
    const numbered = lines.map((l, i) => ({ ...l, lineNumber: i + 1, description: `item ${i + 1}` }));
    expect(pricedTotal(numbered, 'EUR')).toEqual({ totalMinor: 99_999 + 14_994 + 0 + 1 });
  });

  it('totals no lines as zero', () => {
    expect(pricedTotal([], 'EUR')).toEqual({ totalMinor: 0 });
  });

  it('refuses, without throwing, a line whose quantity times its price exceeds the largest amount, naming the line', () => {
    const line = { lineNumber: 2, description: 'Server', quantity: 10_000, reusedUnits: 0, unitPriceMinor: 1e12 };
    expect(pricedTotal([line], 'EUR')).toEqual({
      refusal: 'line 2 (Server), 10000 x EUR 10,000,000,000.00, comes to EUR 100,000,000,000,000.00, beyond the largest amount accepted (EUR 100,000,000,000.00)',
    });
    // Beyond a safe integer too: still a refusal, never a RangeError.
    expect(pricedTotal([{ ...line, unitPriceMinor: 2 ** 52 }], 'EUR')).toMatchObject({ refusal: expect.stringContaining('line 2 (Server)') });
  });

  it('takes a line of exactly the largest amount, and refuses the request once its lines together exceed it', () => {
    const line = (lineNumber: number, unitPriceMinor: number) => ({ lineNumber, description: 'Rack', quantity: 1, reusedUnits: 0, unitPriceMinor });
    expect(pricedTotal([line(1, MAX_AMOUNT_MINOR)], 'EUR')).toEqual({ totalMinor: MAX_AMOUNT_MINOR });
    expect(pricedTotal([line(1, MAX_AMOUNT_MINOR), line(2, 1)], 'EUR')).toEqual({
      refusal: 'the request, 2 lines together, comes to EUR 100,000,000,000.01, beyond the largest amount accepted (EUR 100,000,000,000.00)',
    });
  });

  it('leaves reused units out before bounding a line', () => {
    const line = { lineNumber: 1, description: 'Seats', quantity: 10, reusedUnits: 9, unitPriceMinor: MAX_AMOUNT_MINOR };
    expect(pricedTotal([line], 'EUR')).toEqual({ totalMinor: MAX_AMOUNT_MINOR });
  });

  it('refuses a line whose reused units exceed its quantity', () => {
    expect(() => lineAmount({ quantity: 2, reusedUnits: 3, unitPriceMinor: 100 })).toThrow(RangeError);
  });

  it('throws for a line amount beyond the largest amount: pricedTotal refuses such a line before anything takes its amount', () => {
    expect(lineAmount({ quantity: 1, reusedUnits: 0, unitPriceMinor: MAX_AMOUNT_MINOR })).toBe(MAX_AMOUNT_MINOR);
    expect(() => lineAmount({ quantity: 2, reusedUnits: 0, unitPriceMinor: MAX_AMOUNT_MINOR })).toThrow(RangeError);
    expect(() => lineAmount({ quantity: 10_000, reusedUnits: 0, unitPriceMinor: 2 ** 40 })).toThrow(/beyond the largest amount/);
  });

  it('refuses a fractional price', () => {
    expect(() => lineAmount({ quantity: 3, reusedUnits: 0, unitPriceMinor: 0.5 })).toThrow(RangeError);
  });
});

describe('submittedAmountIssues', () => {
  it('accepts quoted lines up to the largest amount, and ignores catalogue lines (priced later)', () => {
    expect(submittedAmountIssues([
      { quantity: 10_000, quotedUnitPriceMinor: 1_000_000_000 },
      { quantity: 10_000 },
    ], 'EUR')).toEqual([]);
  });

  it('names the quoted price of each line whose quantity times it exceeds the largest amount', () => {
    expect(submittedAmountIssues([
      { quantity: 1, quotedUnitPriceMinor: 5 },
      { quantity: 10_000, quotedUnitPriceMinor: 1e12 },
      { quantity: 9_007, quotedUnitPriceMinor: 1e12 },
    ], 'EUR')).toEqual([
      { path: ['lines', 1, 'quotedUnitPriceMinor'], message: '10000 x EUR 10,000,000,000.00 comes to EUR 100,000,000,000,000.00, beyond the largest amount accepted (EUR 100,000,000,000.00)' },
      { path: ['lines', 2, 'quotedUnitPriceMinor'], message: expect.stringMatching(/^9007 x EUR 10,000,000,000.00 comes to EUR 90,070,000,000,000.00, beyond/) },
    ]);
  });

  it('refuses quoted lines that are each within the bound but together exceed it, naming the lines', () => {
    const half = { quantity: 1, quotedUnitPriceMinor: MAX_AMOUNT_MINOR / 2 };
    expect(submittedAmountIssues([half, half], 'EUR')).toEqual([]);
    expect(submittedAmountIssues([half, half, { quantity: 1, quotedUnitPriceMinor: 1 }], 'JPY')).toEqual([
      { path: ['lines'], message: 'the sum of the quoted lines comes to JPY 10,000,000,000,001, beyond the largest amount accepted (JPY 10,000,000,000,000)' },
    ]);
  });
});

describe('serialKey', () => {
  it.each([
    ['SN-ABC-1', 'sn-abc-1'],
    ['sn-abc-1', 'sn-abc-1'],
    [' SN ABC\t1 ', 'snabc1'],
    ['SN\u00a0ABC\n1', 'snabc1'],
    // Only ASCII letters are folded: Postgres computes the same key whatever its locale.
    ['Ünï-ÇODE', 'Ünï-Çode'],
    ['', ''],
  ])('%j compares as %j', (serial, key) => {
    expect(serialKey(serial)).toBe(key);
  });
});

describe('licenceReuseOffer', () => {
  it('offers spare seats of the same product to its lines in order, never more than is spare', () => {
    const lines = [
      { lineId: 'l1', productId: 'office', quantity: 3 },
      { lineId: 'l2', productId: 'office', quantity: 4 },
      { lineId: 'l3', productId: 'office', quantity: 2 },
    ];
    expect(licenceReuseOffer(lines, [{ productId: 'office', spareUnits: 5 }])).toEqual([
      { lineId: 'l1', productId: 'office', offeredUnits: 3 },
      { lineId: 'l2', productId: 'office', offeredUnits: 2 },
    ]);
  });

  it('offers no more than a line needs when more is spare', () => {
    expect(licenceReuseOffer([{ lineId: 'l1', productId: 'office', quantity: 2 }], [{ productId: 'office', spareUnits: 40 }])).toEqual([
      { lineId: 'l1', productId: 'office', offeredUnits: 2 },
    ]);
  });

  it('offers what is spare when less is spare than a line needs', () => {
    expect(licenceReuseOffer([{ lineId: 'l1', productId: 'office', quantity: 10 }], [{ productId: 'office', spareUnits: 3 }])).toEqual([
      { lineId: 'l1', productId: 'office', offeredUnits: 3 },
    ]);
  });

  it('keeps each product to its own spare seats', () => {
    const lines = [
      { lineId: 'l1', productId: 'office', quantity: 2 },
      { lineId: 'l2', productId: 'cad', quantity: 5 },
      { lineId: 'l3', productId: 'office', quantity: 2 },
      { lineId: 'l4', productId: 'cad', quantity: 1 },
    ];
    const spare = [
      { productId: 'cad', spareUnits: 5 },
      { productId: 'office', spareUnits: 3 },
    ];
    expect(licenceReuseOffer(lines, spare)).toEqual([
      { lineId: 'l1', productId: 'office', offeredUnits: 2 },
      { lineId: 'l2', productId: 'cad', offeredUnits: 5 },
      { lineId: 'l3', productId: 'office', offeredUnits: 1 },
    ]);
  });

  it('gives no entry to lines without a product, without spare seats, or with nothing left to buy', () => {
    const lines = [
      { lineId: 'laptop', productId: null, quantity: 3 },
      { lineId: 'visio', productId: 'visio', quantity: 2 },
      { lineId: 'none-spare', productId: 'cad', quantity: 2 },
      { lineId: 'covered', productId: 'office', quantity: 0 },
    ];
    const spare = [
      { productId: 'cad', spareUnits: 0 },
      { productId: 'office', spareUnits: 4 },
    ];
    expect(licenceReuseOffer(lines, spare)).toEqual([]);
  });
});

describe('ordersByVendor', () => {
  const line = (lineId: string, vendorId: string | null, quantity: number, reusedUnits: number, unitPriceMinor: number) => ({
    lineId, vendorId, quantity, reusedUnits, unitPriceMinor,
  });

  it('places one purchase order per vendor, vendors in order of first appearance', () => {
    const orders = ordersByVendor([
      line('l1', 'dell', 3, 0, 33_333),
      line('l2', 'microsoft', 10, 4, 2_499),
      line('l3', 'dell', 2, 0, 25_000),
    ]);
    expect(orders).toEqual([
      { vendorId: 'dell', amountMinor: 99_999 + 50_000, lineIds: ['l1', 'l3'] },
      { vendorId: 'microsoft', amountMinor: 14_994, lineIds: ['l2'] },
    ]);
  });

  it('drops a line fully covered by reused seats, and a vendor with nothing else to order', () => {
    const orders = ordersByVendor([
      line('l1', 'microsoft', 5, 5, 2_499),
      line('l2', 'dell', 1, 0, 120_000),
      line('l3', 'adobe', 2, 2, 6_000),
      line('l4', 'adobe', 3, 1, 6_000),
    ]);
    expect(orders).toEqual([
      { vendorId: 'dell', amountMinor: 120_000, lineIds: ['l2'] },
      { vendorId: 'adobe', amountMinor: 12_000, lineIds: ['l4'] },
    ]);
  });

  it('places no order when everything is reused', () => {
    expect(ordersByVendor([line('l1', 'microsoft', 5, 5, 2_499)])).toEqual([]);
  });

  it('orders a free item at zero', () => {
    expect(ordersByVendor([line('l1', 'dell', 1, 0, 0)])).toEqual([{ vendorId: 'dell', amountMinor: 0, lineIds: ['l1'] }]);
  });

  it('refuses a line to buy without a vendor', () => {
    expect(() => ordersByVendor([line('l1', 'dell', 1, 0, 100), line('l2', null, 1, 0, 100)])).toThrow('line l2 has no vendor');
  });

  it('needs no vendor for a line fully covered by reused seats', () => {
    expect(ordersByVendor([line('l1', null, 2, 2, 100)])).toEqual([]);
  });

  it('throws for an order amount beyond the largest amount (pricedTotal refuses such a request first)', () => {
    expect(() => ordersByVendor([line('l1', 'dell', 1, 0, MAX_AMOUNT_MINOR), line('l2', 'dell', 1, 0, 1)])).toThrow(RangeError);
  });
});

describe('checkReceipt', () => {
  const order: ReceiptCheckInput = {
    orderState: 'issued',
    lines: [
      { lineId: 'laptops', kind: 'hardware', orderedUnits: 3, receivedUnits: 1 },
      { lineId: 'office', kind: 'software', orderedUnits: 10, receivedUnits: 0 },
      { lineId: 'cables', kind: 'other', orderedUnits: 5, receivedUnits: 5 },
    ],
    receipt: [],
    knownSerials: ['SN-OLD-1', 'sn-old-2'],
  };
  const check = (receipt: ReceiptCheckInput['receipt'], changes: Partial<ReceiptCheckInput> = {}) => checkReceipt({ ...order, ...changes, receipt });

  it('accepts a receipt within what is still to come', () => {
    expect(check([
      { lineId: 'laptops', quantity: 1, serialNumbers: ['SN-100'] },
      { lineId: 'office', quantity: 4, serialNumbers: [] },
    ])).toBeNull();
  });

  it('accepts exactly the units still to come', () => {
    expect(check([
      { lineId: 'laptops', quantity: 2, serialNumbers: ['SN-100', 'SN-101'] },
      { lineId: 'office', quantity: 10, serialNumbers: [] },
    ])).toBeNull();
  });

  it('accepts a receipt on a partly received order', () => {
    expect(check([{ lineId: 'office', quantity: 1, serialNumbers: [] }], { orderState: 'partially_received' })).toBeNull();
  });

  it('refuses a cancelled order', () => {
    expect(check([{ lineId: 'office', quantity: 1, serialNumbers: [] }], { orderState: 'cancelled' })).toEqual({
      rule: 'order_cancelled',
      message: 'This purchase order was cancelled: nothing can be received on it.',
      details: { orderState: 'cancelled' },
    });
  });

  it.each(['received', 'closed'] as const)('refuses a %s order as complete', (orderState) => {
    expect(check([{ lineId: 'office', quantity: 1, serialNumbers: [] }], { orderState })).toEqual({
      rule: 'order_complete',
      message: 'Everything on this purchase order has already been received.',
      details: { orderState },
    });
  });

  it('refuses a receipt without lines', () => {
    expect(check([])).toEqual({ rule: 'empty_receipt', message: 'The receipt lists nothing received.', details: {} });
  });

  it.each([0, -1, 1.5])('refuses a receipt line of %d units as empty', (quantity) => {
    expect(check([{ lineId: 'office', quantity: 1, serialNumbers: [] }, { lineId: 'office', quantity, serialNumbers: [] }])).toMatchObject({
      rule: 'empty_receipt',
      details: { lineId: 'office', quantity },
    });
  });

  it('refuses a line not on the order', () => {
    expect(check([
      { lineId: 'office', quantity: 1, serialNumbers: [] },
      { lineId: 'monitors', quantity: 1, serialNumbers: ['SN-9'] },
    ])).toEqual({ rule: 'line_not_on_order', message: 'Line monitors is not on this purchase order.', details: { lineId: 'monitors' } });
  });

  it('refuses one unit more than is still to come', () => {
    expect(check([{ lineId: 'laptops', quantity: 3, serialNumbers: ['SN-100', 'SN-101', 'SN-102'] }])).toEqual({
      rule: 'over_receipt',
      message: 'Line laptops has 2 units still to come (3 ordered, 1 received already), not 3.',
      details: { lineId: 'laptops', ordered: 3, received: 1, remaining: 2, attempted: 3 },
    });
    expect(check([{ lineId: 'office', quantity: 11, serialNumbers: [] }])).toMatchObject({
      rule: 'over_receipt',
      details: { ordered: 10, received: 0, remaining: 10, attempted: 11 },
    });
  });

  it('refuses anything more on a line received in full', () => {
    expect(check([{ lineId: 'cables', quantity: 1, serialNumbers: [] }])).toMatchObject({
      rule: 'over_receipt',
      message: 'Line cables has 0 units still to come (5 ordered, 5 received already), not 1.',
      details: { lineId: 'cables', remaining: 0, attempted: 1 },
    });
  });

  it('sums a line named twice in one receipt', () => {
    expect(check([
      { lineId: 'office', quantity: 6, serialNumbers: [] },
      { lineId: 'office', quantity: 4, serialNumbers: [] },
    ])).toBeNull();
    expect(check([
      { lineId: 'office', quantity: 6, serialNumbers: [] },
      { lineId: 'office', quantity: 5, serialNumbers: [] },
    ])).toMatchObject({ rule: 'over_receipt', details: { lineId: 'office', remaining: 10, attempted: 11 } });
  });

  it('takes the serial numbers of a hardware line named twice together', () => {
    expect(check([
      { lineId: 'laptops', quantity: 1, serialNumbers: ['SN-100'] },
      { lineId: 'laptops', quantity: 1, serialNumbers: ['SN-101'] },
    ])).toBeNull();
    expect(check([
      { lineId: 'laptops', quantity: 1, serialNumbers: [] },
      { lineId: 'laptops', quantity: 1, serialNumbers: ['SN-100', 'SN-101'] },
    ])).toBeNull();
  });

  it.each([
    ['no serial numbers', 2, [], 0],
    ['too few serial numbers', 2, ['SN-100'], 1],
    ['too many serial numbers', 1, ['SN-100', 'SN-101'], 2],
    ['a blank serial number', 2, ['SN-100', '   '], 1],
    ['an empty serial number', 1, [''], 0],
  ])('refuses a hardware line with %s', (_, quantity, serialNumbers, given) => {
    expect(check([{ lineId: 'laptops', quantity, serialNumbers }])).toMatchObject({
      rule: 'serials_required',
      details: { lineId: 'laptops', quantity, serialNumbers: given },
    });
  });

  it('tells the clerk how many serial numbers a hardware line needs', () => {
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['SN-100'] }])?.message).toBe(
      'Line laptops is hardware: give one serial number for each of the 2 units received (1 given).',
    );
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['SN-100', ' '] }])?.message).toBe(
      'Line laptops is hardware: give one serial number for each of the 2 units received (1 given, blank ones do not count).',
    );
  });

  it('accepts serial numbers with surrounding spaces', () => {
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: [' SN-100', 'SN-101 '] }])).toBeNull();
  });

  it.each([
    ['software', 'office', 'Line office is software: it takes no serial numbers.'],
    ['other', 'cables', 'Line cables is not hardware: it takes no serial numbers.'],
  ])('refuses serial numbers on a %s line', (kind, lineId, message) => {
    const lines = order.lines.map((l) => ({ ...l, receivedUnits: 0 }));
    expect(check([{ lineId, quantity: 1, serialNumbers: ['SN-1'] }], { lines })).toEqual({
      rule: 'serials_not_expected',
      message,
      details: { lineId, kind },
    });
  });

  it('refuses a serial number twice within one receipt, whatever its case', () => {
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['SN-100', 'sn-100'] }])).toEqual({
      rule: 'duplicate_serial',
      message: 'Serial number SN-100 appears more than once in this receipt.',
      details: { serials: ['SN-100'] },
    });
  });

  it('refuses a serial number written twice with different spacing', () => {
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['SN 100', 'sn100'] }])).toMatchObject({
      rule: 'duplicate_serial', details: { serials: ['SN 100'] },
    });
  });

  it('refuses a serial number repeated across two entries of the same line', () => {
    expect(check([
      { lineId: 'laptops', quantity: 1, serialNumbers: ['SN-100'] },
      { lineId: 'laptops', quantity: 1, serialNumbers: [' SN-100 '] },
    ])).toMatchObject({ rule: 'duplicate_serial', details: { serials: ['SN-100'] } });
  });

  it('names every repeated serial number once', () => {
    expect(check([{ lineId: 'laptops', quantity: 5, serialNumbers: ['A-1', 'B-2', 'a-1', 'b-2', 'A-1'] }], {
      lines: [{ lineId: 'laptops', kind: 'hardware', orderedUnits: 5, receivedUnits: 0 }],
    })).toEqual({
      rule: 'duplicate_serial',
      message: 'Serial numbers A-1, B-2 appear more than once in this receipt.',
      details: { serials: ['A-1', 'B-2'] },
    });
  });

  it('refuses serial numbers already on asset records, whatever their case, and lists them', () => {
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['sn-old-1', 'SN-OLD-2'] }])).toEqual({
      rule: 'serial_known',
      message: 'Serial numbers sn-old-1, SN-OLD-2 are already on an asset record: check the serial numbers against the delivery.',
      details: { serials: ['sn-old-1', 'SN-OLD-2'] },
    });
    expect(check([{ lineId: 'laptops', quantity: 2, serialNumbers: ['SN-100', 'SN-OLD-1'] }])).toMatchObject({
      rule: 'serial_known',
      details: { serials: ['SN-OLD-1'] },
    });
    expect(check([{ lineId: 'laptops', quantity: 1, serialNumbers: ['sn-old -1'] }])).toMatchObject({ rule: 'serial_known', details: { serials: ['sn-old -1'] } });
  });

  it('checks the order before the lines, and quantities before serial numbers', () => {
    const bad = [{ lineId: 'laptops', quantity: 9, serialNumbers: ['SN-OLD-1'] }];
    expect(check(bad, { orderState: 'cancelled' })?.rule).toBe('order_cancelled');
    expect(check(bad)?.rule).toBe('over_receipt');
  });
});

describe('orderStateAfter', () => {
  it.each([
    ['nothing received', [[3, 0], [10, 0]], 'issued'],
    ['one unit of one line', [[3, 1], [10, 0]], 'partially_received'],
    ['one line in full', [[3, 3], [10, 0]], 'partially_received'],
    ['all but one unit', [[3, 3], [10, 9]], 'partially_received'],
    ['every line in full', [[3, 3], [10, 10]], 'received'],
    ['a single line in full', [[1, 1]], 'received'],
    ['no lines', [], 'issued'],
  ] as [string, [number, number][], string][])('%s: %s', (_, lines, state) => {
    expect(orderStateAfter(lines.map(([orderedUnits, receivedUnits]) => ({ orderedUnits, receivedUnits })))).toBe(state);
  });
});

describe('requestStateAfter', () => {
  it.each<[OrderState[], string]>([
    [['issued'], 'ordering'],
    [['issued', 'issued'], 'ordering'],
    [['issued', 'partially_received'], 'partially_received'],
    [['issued', 'received'], 'partially_received'],
    [['issued', 'closed'], 'partially_received'],
    [['received', 'received'], 'received'],
    [['received', 'closed'], 'received'],
    [['closed'], 'received'],
    [['received', 'cancelled'], 'received'],
    [['issued', 'cancelled'], 'ordering'],
    [['partially_received', 'cancelled'], 'partially_received'],
    [['cancelled'], 'ordering'],
    [[], 'ordering'],
  ])('orders %j: %s', (states, state) => {
    expect(requestStateAfter(states.map((s) => ({ state: s })))).toBe(state);
  });
});

describe('warrantyEndDate', () => {
  it.each([
    ['2026-03-15', 12, '2027-03-15'],
    ['2026-03-15', 0, '2026-03-15'],
    ['2026-01-31', 1, '2026-02-28'],
    ['2026-01-30', 1, '2026-02-28'],
    ['2026-01-28', 1, '2026-02-28'],
    ['2026-03-31', 1, '2026-04-30'],
    ['2026-01-31', 2, '2026-03-31'],
    ['2027-01-31', 13, '2028-02-29'],
    ['2028-01-31', 1, '2028-02-29'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2026-11-30', 3, '2027-02-28'],
    ['2026-12-31', 1, '2027-01-31'],
    ['2026-08-31', 36, '2029-08-31'],
  ])('%s plus %i month(s) is %s', (receivedOn, months, end) => {
    expect(warrantyEndDate(receivedOn, months)).toBe(end);
  });
});

describe('purchaseRoutingSubject', () => {
  it('tests the approval rules against the request total and its flags', () => {
    expect(purchaseRoutingSubject({ totalMinor: 1_234_567, overBudget: true, offCatalogue: false, newVendor: true })).toEqual({
      costMinor: 1_234_567,
      overBudget: true,
      offCatalogue: false,
      newVendor: true,
    });
  });
});
