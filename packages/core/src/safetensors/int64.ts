// 64-bit integers between safetensors (I64 as BigInt64Array) and JavaScript numbers. Numbers are exact only up
// to 2^53, so both directions check the range instead of silently rounding (token ids, step counters and
// dataset offsets are far below it; a value outside it means corrupt data).

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);

/** Numbers -> I64. Throws on a non-integer or a value outside +-(2^53 - 1); `what` names the data in errors. */
export function numbersToInt64(values: ArrayLike<number>, what = 'value'): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`${what}[${i}] = ${v}: expected an integer within +-${Number.MAX_SAFE_INTEGER}`);
    }
    out[i] = BigInt(v);
  }
  return out;
}

/** I64 (or U64) -> numbers (Float64Array). Throws on a value outside +-(2^53 - 1), which a number cannot hold. */
export function int64ToNumbers(values: BigInt64Array | BigUint64Array, what = 'value'): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > MAX || v < MIN) {
      throw new RangeError(
        `${what}[${i}] = ${v}: outside the exactly representable range +-${Number.MAX_SAFE_INTEGER}`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}
