// Reading torch.save archives made here by hand: strided and offset views of shared storages, every supported
// storage type, and the checks that name the key when a tensor does not fit its storage or the file is not a
// plain state_dict.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HandTensor, PickleBuilder, stateDictPickle, torchZip } from './testing/pickle-builder.js';
import { buildZip } from './testing/zip-builder.js';
import { readTorchCheckpoint, TorchCheckpoint } from './torch-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'torch-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(root, `c${n++}`);
  writeFileSync(p, bytes);
  return p;
}
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const t = (over: Partial<HandTensor> & { key: string }): HandTensor => ({
  storageClass: 'FloatStorage',
  storageKey: '0',
  storageNumel: 12,
  offset: 0,
  shape: [12],
  stride: [1],
  ...over,
});

describe('TorchCheckpoint', () => {
  it('materialises transposed, offset and column views of one storage', async () => {
    const storage = Float32Array.from({ length: 12 }, (_, i) => i);
    const path = file(
      torchZip(
        'archive',
        stateDictPickle([
          t({ key: 'm', shape: [3, 4], stride: [4, 1] }),
          t({ key: 'mt', shape: [4, 3], stride: [1, 4] }),
          t({ key: 'row', offset: 4, shape: [4], stride: [1] }),
          t({ key: 'col', offset: 1, shape: [3], stride: [4] }),
          t({ key: 'empty', shape: [0, 4], stride: [4, 1] }),
        ]),
        { '0': bytesOf(storage) },
      ),
    );
    const all = await readTorchCheckpoint(path);
    expect([...all.keys()]).toEqual(['m', 'mt', 'row', 'col', 'empty']);
    expect(Array.from(all.get('m')!.data as Float32Array)).toEqual(Array.from(storage));
    expect(Array.from(all.get('mt')!.data as Float32Array)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(all.get('mt')!.shape).toEqual([4, 3]);
    expect(Array.from(all.get('row')!.data as Float32Array)).toEqual([4, 5, 6, 7]);
    expect(Array.from(all.get('col')!.data as Float32Array)).toEqual([1, 5, 9]);
    expect(all.get('empty')!.data.length).toBe(0);
  });

  it('reads every supported storage type with its bits', async () => {
    const storages = {
      '0': bytesOf(Uint16Array.from([0x3f80, 0xc000])), // bf16 1, -2
      '1': bytesOf(Uint16Array.from([0x3c00, 0x7bff])), // fp16 1, 65504
      '2': bytesOf(Float64Array.from([Math.PI, -0.1])),
      '3': bytesOf(BigInt64Array.from([-5n, 2n ** 40n])),
      '4': bytesOf(Int32Array.from([-7, 9])),
      '5': bytesOf(Float32Array.from([0.5, 0.25])),
    };
    const classes = ['BFloat16Storage', 'HalfStorage', 'DoubleStorage', 'LongStorage', 'IntStorage', 'float32'];
    const path = file(
      torchZip(
        'x',
        stateDictPickle(
          classes.map((c, i) => t({ key: c, storageClass: c, storageKey: String(i), storageNumel: 2, shape: [2] })),
        ),
        storages,
      ),
    );
    const ckpt = await TorchCheckpoint.open(path);
    try {
      expect(ckpt.archiveName).toBe('x');
      expect([...ckpt.tensors.values()].map((i) => i.dtype)).toEqual([
        'bfloat16',
        'float16',
        'float64',
        'int64',
        'int32',
        'float32',
      ]);
      expect(Array.from((await ckpt.read('BFloat16Storage')).data as Uint16Array)).toEqual([0x3f80, 0xc000]);
      expect(Array.from((await ckpt.read('HalfStorage')).data as Uint16Array)).toEqual([0x3c00, 0x7bff]);
      expect(Array.from((await ckpt.read('DoubleStorage')).data as Float64Array)).toEqual([Math.PI, -0.1]);
      expect(Array.from((await ckpt.read('LongStorage')).data as BigInt64Array)).toEqual([-5n, 2n ** 40n]);
      expect(Array.from((await ckpt.read('IntStorage')).data as Int32Array)).toEqual([-7, 9]);
      expect(Array.from((await ckpt.read('float32')).data as Float32Array)).toEqual([0.5, 0.25]);
    } finally {
      await ckpt.close();
    }
  });

  it('names the key of a tensor that does not fit its storage', async () => {
    const data = { '0': bytesOf(new Float32Array(12)) };
    const past = file(torchZip('a', stateDictPickle([t({ key: 'w', offset: 10, shape: [4] })]), data));
    await expect(TorchCheckpoint.open(past)).rejects.toThrow(
      'tensor w [4] (offset 10, stride [1]) reaches element 14 of storage 0, which has 12',
    );
    const missing = file(torchZip('a', stateDictPickle([t({ key: 'w', storageKey: '9' })]), data));
    await expect(TorchCheckpoint.open(missing)).rejects.toThrow(
      'tensor w needs storage entry a/data/9, which is missing',
    );
    const short = file(torchZip('a', stateDictPickle([t({ key: 'w' })]), { '0': new Uint8Array(40) }));
    await expect(TorchCheckpoint.open(short)).rejects.toThrow(
      'tensor w: storage a/data/0 is truncated (40 bytes, 12 float32 elements need 48)',
    );
  });

  it('refuses what is not a little-endian state_dict archive', async () => {
    const ok = stateDictPickle([t({ key: 'w' })]);
    const data = { '0': bytesOf(new Float32Array(12)) };
    const notDict = new PickleBuilder().proto().orderedDict().mark().str('model').orderedDict().setitems().stop();
    await expect(TorchCheckpoint.open(file(torchZip('a', notDict.bytes(), data)))).rejects.toThrow(
      'key "model" holds OrderedDict, not a tensor; expected a plain state_dict',
    );
    const list = new PickleBuilder().proto().raw(0x5d).stop();
    await expect(TorchCheckpoint.open(file(torchZip('a', list.bytes(), data)))).rejects.toThrow(
      'holds list[0] where a state_dict (an OrderedDict of tensors) was expected',
    );
    const bigEndian = buildZip([
      { name: 'a/data.pkl', data: ok },
      { name: 'a/byteorder', data: new TextEncoder().encode('big') },
      { name: 'a/data/0', data: data['0'] },
    ]);
    await expect(TorchCheckpoint.open(file(bigEndian))).rejects.toThrow(
      'a/byteorder says "big"; only little-endian checkpoints are supported',
    );
    const noPickle = buildZip([{ name: 'a/other', data: ok }]);
    await expect(TorchCheckpoint.open(file(noPickle))).rejects.toThrow(
      'is a zip but not a torch.save archive: no <name>/data.pkl among its entries (a/other)',
    );
    await expect(TorchCheckpoint.open(file(ok))).rejects.toThrow(
      'is a legacy (non-zip) torch.save file (PyTorch < 1.6 or _use_new_zipfile_serialization=False), which is not supported',
    );
  });
});
