import { describe, expect, it } from 'vitest';
import { int64ToNumbers, numbersToInt64 } from './int64.js';

describe('int64 <-> number', () => {
  it('converts safe integers both ways', () => {
    const values = [0, 1, -1, 2 ** 40, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    const big = numbersToInt64(values);
    expect(Array.from(big)).toEqual(values.map(BigInt));
    expect(Array.from(int64ToNumbers(big))).toEqual(values);
  });

  it('refuses values a number cannot hold exactly, naming the position', () => {
    expect(() => int64ToNumbers(BigInt64Array.of(1n, 2n ** 53n))).toThrow(/value\[1\] = 9007199254740992/);
    expect(() => int64ToNumbers(BigUint64Array.of(2n ** 64n - 1n), 'ids')).toThrow(/ids\[0\]/);
    expect(() => numbersToInt64([1, 2.5])).toThrow(/value\[1\] = 2.5/);
    expect(() => numbersToInt64([2 ** 53])).toThrow(/expected an integer/);
  });
});
