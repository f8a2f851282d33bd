import { describe, expect, it } from 'vitest';

import { signVisitor, verifyVisitor } from './visitor';

describe('signed visitor cookies', () => {
  it('a value verified once is still refused under another secret or with its id or age changed', async () => {
    const value = await signVisitor('visitor-aaaa', 1_800_000_000, 'secret-one');
    const visitor = { id: 'visitor-aaaa', issuedAt: 1_800_000_000 };
    // Twice: the second answer comes from the verified-value cache and must be the same.
    expect(await verifyVisitor(value, 'secret-one')).toEqual(visitor);
    expect(await verifyVisitor(value, 'secret-one')).toEqual(visitor);
    expect(await verifyVisitor(value, 'secret-two')).toBeUndefined();
    const [, issued, sig] = value.split('.');
    expect(await verifyVisitor(`visitor-aaab.${issued}.${sig}`, 'secret-one')).toBeUndefined();
    // An older issue time would let a fresh identity vote at once: the time is signed too.
    expect(
      await verifyVisitor(`visitor-aaaa.${(1_700_000_000).toString(36)}.${sig}`, 'secret-one'),
    ).toBeUndefined();
    expect(await verifyVisitor(`${value}x`, 'secret-one')).toBeUndefined();
    expect(await verifyVisitor('visitor-aaaa', 'secret-one')).toBeUndefined();
    expect(await verifyVisitor(`${value}${'A'.repeat(200)}`, 'secret-one')).toBeUndefined();
  });
});
