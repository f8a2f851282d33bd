import { describe, expect, it } from 'vitest';
import { signVisitor, verifyVisitor } from './visitor';

describe('signed visitor cookies', () => {
  it('a value verified once is still refused under another secret or with its id changed', async () => {
    const value = await signVisitor('visitor-aaaa', 'secret-one');
    // Twice: the second answer comes from the verified-value cache and must be the same.
    expect(await verifyVisitor(value, 'secret-one')).toBe('visitor-aaaa');
    expect(await verifyVisitor(value, 'secret-one')).toBe('visitor-aaaa');
    expect(await verifyVisitor(value, 'secret-two')).toBeUndefined();
    const [, sig] = value.split('.');
    expect(await verifyVisitor(`visitor-aaab.${sig}`, 'secret-one')).toBeUndefined();
    expect(await verifyVisitor(`${value}x`, 'secret-one')).toBeUndefined();
    expect(await verifyVisitor('visitor-aaaa', 'secret-one')).toBeUndefined();
  });
});
