// Cross-check with numpy itself: numpy loads what we write, and we load what numpy writes, byte for byte.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy, type NpyArray, NpyStreamWriter, readNpy, writeNpy } from './index.js';
import { numpySkipped, runNumpyScript } from './numpy-python.js';

const dir = mkdtempSync(join(tmpdir(), 'npy-numpy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const arrays: Record<string, NpyArray> = {
  u8: { dtype: 'uint8', shape: [3, 4], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) },
  i32: { dtype: 'int32', shape: [5], data: Int32Array.from([0, -1, 7, 2 ** 31 - 1, -(2 ** 31)]) },
  i64: { dtype: 'int64', shape: [2, 1], data: BigInt64Array.from([-5n, 2n ** 50n]) },
  f32: { dtype: 'float32', shape: [2, 2], data: Float32Array.from([0.5, -1.25, 3, 1e-3]) },
  b: { dtype: 'bool', shape: [4], data: Uint8Array.from([1, 0, 0, 1]) },
  f16: { dtype: 'float16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x3800]) },
  empty: { dtype: 'uint8', shape: [0, 900], data: new Uint8Array(0) },
  scalar: { dtype: 'float64', shape: [], data: Float64Array.from([2.5]) },
};

// Loads each of our files, compares values with the expectation and the bytes with np.save's, then writes
// numpy's own copies for the reverse check.
const script = `
import json, sys, io, numpy as np
d = sys.argv[1]
spec = json.loads(sys.argv[2])
for name, (dtype, shape, values) in spec.items():
    a = np.load(f"{d}/{name}.npy")
    want = np.array(values, dtype=dtype).reshape(shape)
    assert a.dtype == want.dtype, (name, a.dtype, want.dtype)
    assert a.shape == tuple(shape), (name, a.shape, shape)
    assert np.array_equal(a, want), (name, a, want)
    buf = io.BytesIO(); np.save(buf, want)
    assert buf.getvalue() == open(f"{d}/{name}.npy", "rb").read(), f"{name}: bytes differ from np.save"
    np.save(f"{d}/{name}.numpy.npy", want)
s = np.load(f"{d}/stream.npy")
assert s.shape == (1000, 81) and s.dtype == np.uint8 and int(s[999, 80]) == (999 * 81 + 80) % 251
print("ok")
`;

/** [numpy dtype name, shape, values as JSON]; our dtype names are numpy's. float16 goes as its decoded values. */
function plain(a: NpyArray): [string, number[], unknown[]] {
  if (a.dtype === 'float16') return ['float16', a.shape, [1, -2, 0.5]];
  const values = Array.from(a.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
  return [a.dtype, a.shape, a.dtype === 'bool' ? values.map(Boolean) : values];
}

describe('npy files against numpy', () => {
  it.skipIf(numpySkipped())('numpy loads ours and writes identical bytes; we load numpy files', () => {
    for (const [name, a] of Object.entries(arrays)) writeNpy(join(dir, `${name}.npy`), a);
    const w = new NpyStreamWriter(join(dir, 'stream.npy'), 'uint8', [81], { bufferBytes: 1000 });
    for (let r = 0; r < 1000; r++) w.write(Uint8Array.from({ length: 81 }, (_, c) => (r * 81 + c) % 251));
    w.close();
    const spec = Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, plain(a)]));
    expect(runNumpyScript(script, [dir, JSON.stringify(spec)]).trim()).toBe('ok');
    for (const [name, a] of Object.entries(arrays)) {
      const path = join(dir, `${name}.numpy.npy`);
      expect(new Uint8Array(readFileSync(path))).toEqual(encodeNpy(a));
      const back = readNpy(path);
      expect([back.dtype, back.shape]).toEqual([a.dtype, a.shape]);
    }
  });
});
