import { requestFingerprint } from './idempotency';

describe('requestFingerprint', () => {
  const receipt = { method: 'post', route: '/purchase-orders/:id/receipts', subject: 'purchase:PR0001001', body: { lines: [{ lineId: 'a', quantity: 2 }] } };

  it('is the same for the same request whatever the order of its fields', () => {
    const reordered = { ...receipt, method: 'POST', body: { lines: [{ quantity: 2, lineId: 'a' }] } };
    expect(requestFingerprint(reordered)).toBe(requestFingerprint(receipt));
  });

  it('differs when the body, the subject or the operation differs', () => {
    const base = requestFingerprint(receipt);
    expect(requestFingerprint({ ...receipt, body: { lines: [{ lineId: 'a', quantity: 3 }] } })).not.toBe(base);
    expect(requestFingerprint({ ...receipt, subject: 'purchase:PR0001002' })).not.toBe(base);
    expect(requestFingerprint({ ...receipt, route: '/purchase-orders/:id/cancel' })).not.toBe(base);
    expect(requestFingerprint({ ...receipt, body: { lines: [{ lineId: 'a', quantity: 2 }, { lineId: 'a', quantity: 2 }] } })).not.toBe(base);
  });
});
