// Strided views of a storage, as PyTorch describes a tensor (offset, size, stride, all in elements): whether a view
// is plain row-major, how many storage elements it reaches, and copying it out into row-major order.

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/** Whether the view is row-major without gaps (a dimension of size 1 may have any stride). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  const want = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || stride[i] === want[i]);
}

/** Number of storage elements from the view's first element to its last one inclusive (0 for an empty view). */
export function spanOf(shape: readonly number[], stride: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  return 1 + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, 0);
}

/** Calls `visit(k, at)` for each element k of the view in row-major order, with `at` its storage index. */
function walk(shape: readonly number[], stride: readonly number[], visit: (k: number, at: number) => void): void {
  const n = numelOf(shape);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = 0;
  for (let k = 0; k < n; k++) {
    visit(k, at);
    // Odometer over the indices, last axis fastest; `at` follows the strides.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      at += stride[d]!;
      if (index[d]! < shape[d]!) break;
      at -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
}

/**
 * Copies a strided view into row-major order. `src` holds the storage elements starting at the view's first
 * element (at least spanOf(shape, stride) of them, aligned to the element size); the result is a fresh buffer of
 * numel * width bytes. Elements are copied as integers of their width, so bit patterns (NaN payloads) survive.
 */
export function gatherStrided(
  src: Uint8Array,
  width: number,
  shape: readonly number[],
  stride: readonly number[],
): Uint8Array {
  const n = numelOf(shape);
  const out = new Uint8Array(n * width);
  if (n === 0) return out;
  const span = spanOf(shape, stride);
  if (src.length < span * width) throw new Error(`a strided view needs ${span * width} bytes, got ${src.length}`);
  if (width === 8) {
    const from = new BigUint64Array(src.buffer, src.byteOffset, span);
    const to = new BigUint64Array(out.buffer);
    walk(shape, stride, (k, at) => {
      to[k] = from[at]!;
    });
    return out;
  }
  const Lane = width === 1 ? Uint8Array : width === 2 ? Uint16Array : width === 4 ? Uint32Array : null;
  if (!Lane) throw new Error(`element size ${width} is not 1, 2, 4 or 8 bytes`);
  const from = new Lane(src.buffer as ArrayBuffer, src.byteOffset, span);
  const to = new Lane(out.buffer as ArrayBuffer);
  walk(shape, stride, (k, at) => {
    to[k] = from[at]!;
  });
  return out;
}
