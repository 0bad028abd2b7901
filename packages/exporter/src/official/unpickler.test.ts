// The restricted unpickler on the fixture's real data.pkl and on hand-written pickles: what torch.save emits
// (protocol 2 with memo, protocol 4 framing and STACK_GLOBAL) reads; anything that would run code is refused with
// the global and the key named.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PickleBuilder, stateDictPickle } from './testing/pickle-builder.js';
import { PyDict, PyTuple, StorageRef, TensorRef, unpickle } from './unpickler.js';
import { ZipArchive } from './zip-reader.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'official', 'att', 'step_0');

describe('unpickle', () => {
  it("reads the official checkpoint's state_dict with its _metadata", async () => {
    const zip = await ZipArchive.open(FIXTURE);
    const root = unpickle(await zip.read('step_0/data.pkl'), 'data.pkl');
    await zip.close();
    expect(root).toBeInstanceOf(PyDict);
    const dict = root as PyDict;
    expect(dict.ordered).toBe(true);
    expect(dict.map.size).toBe(15);
    const h = dict.map.get('_orig_mod.model.inner.H_init') as TensorRef;
    expect(h).toBeInstanceOf(TensorRef);
    expect(h.storage).toEqual(new StorageRef('0', 'bfloat16', 'cpu', 64));
    expect([h.offset, h.shape, h.stride, h.requiresGrad]).toEqual([0, [64], [1], false]);
    const qkv = dict.map.get('_orig_mod.model.inner.L_level.layers.1.self_attn.qkv_proj.weight') as TensorRef;
    expect([qkv.storage.dtype, qkv.storage.key, qkv.shape, qkv.stride]).toEqual(['float32', '11', [192, 64], [64, 1]]);
    // BUILD set the OrderedDict's _metadata: one entry per module, each {version: 1}.
    const meta = dict.attributes?.get('_metadata') as PyDict;
    expect(meta.ordered).toBe(true);
    expect((meta.map.get('_orig_mod.model.inner.L_level.layers.0.mlp') as PyDict).map.get('version')).toBe(1);
  });

  it('reads protocol-4 framing, STACK_GLOBAL, MEMOIZE, long integers and a shared storage', () => {
    const p = new PickleBuilder().proto(4).raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0);
    // OrderedDict via STACK_GLOBAL + MEMOIZE, then two tensors on one storage, the second through the memo.
    p.raw(0x8c, 11, ...Buffer.from('collections'), 0x8c, 11, ...Buffer.from('OrderedDict'), 0x93, 0x94);
    p.emptyTuple().reduce().raw(0x94).mark();
    p.str('a').global('torch._utils', '_rebuild_tensor_v2').raw(0x94).mark();
    // numel 2^40 as LONG1 (5 bytes), so sizes past 2^31 read as numbers
    p.mark()
      .str('storage')
      .global('torch', 'HalfStorage')
      .str('0')
      .str('cuda:0')
      .raw(0x8a, 6, 0, 0, 0, 0, 0, 1)
      .tuple();
    p.binpersid().raw(0x94).int(0).ints([2]).ints([1]).bool(true).raw(0x68, 0).emptyTuple().reduce().tuple().reduce();
    p.str('b')
      .raw(0x68, 2)
      .mark()
      .raw(0x68, 3)
      .int(2)
      .ints([2, 2])
      .ints([1, 2])
      .bool(false)
      .emptyDict()
      .tuple()
      .reduce();
    const root = unpickle(p.setitems().stop().bytes()) as PyDict;
    const a = root.map.get('a') as TensorRef;
    const b = root.map.get('b') as TensorRef;
    expect(a.storage).toBe(b.storage);
    expect(a.storage).toEqual(new StorageRef('0', 'float16', 'cuda:0', 2 ** 40));
    expect([a.requiresGrad, b.offset, b.shape, b.stride]).toEqual([true, 2, [2, 2], [1, 2]]);
  });

  it('reads _rebuild_parameter and a dtype global in place of the storage class', () => {
    const p = new PickleBuilder().proto(2).orderedDict().mark().str('w');
    p.global('torch._utils', '_rebuild_parameter').mark();
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'bfloat16').str('7').str('cpu').int(3).tuple().binpersid();
    p.int(0).ints([3]).ints([1]).bool(true).orderedDict().tuple().reduce();
    p.bool(true).orderedDict().tuple().reduce().setitems().stop();
    const w = (unpickle(p.bytes()) as PyDict).map.get('w') as TensorRef;
    expect(w.storage).toEqual(new StorageRef('7', 'bfloat16', 'cpu', 3));
  });

  it('refuses any other global, naming it and the key being read', () => {
    const ok = stateDictPickle([
      {
        key: 'x.weight',
        storageClass: 'FloatStorage',
        storageKey: '0',
        storageNumel: 1,
        offset: 0,
        shape: [1],
        stride: [1],
      },
      {
        key: 'y.weight',
        storageClass: 'FloatStorage',
        storageKey: '1',
        storageNumel: 1,
        offset: 0,
        shape: [1],
        stride: [1],
      },
    ]);
    const bad = Buffer.from(ok);
    // the second tensor's rebuild function becomes builtins.eval (same length: 12 + 17 -> 8 + 4, so rebuild text)
    const text = Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n', 'latin1');
    const second = bad.indexOf(text, bad.indexOf(text) + 1);
    const edited = Buffer.concat([
      bad.subarray(0, second),
      Buffer.from('cbuiltins\neval\n'),
      bad.subarray(second + text.length),
    ]);
    expect(() => unpickle(edited, 'data.pkl')).toThrow(
      /^unsupported global builtins\.eval: .* \(data\.pkl at byte \d+ \(opcode 0x63\), while reading key "y\.weight"\)$/,
    );
    expect(() => unpickle(new PickleBuilder().proto().global('os', 'system').stop().bytes())).toThrow(
      'unsupported global os.system',
    );
  });

  it('refuses calls of allowed names that are not callables, and object-building opcodes', () => {
    const call = new PickleBuilder().proto().global('torch', 'FloatStorage').emptyTuple().reduce().stop();
    expect(() => unpickle(call.bytes())).toThrow('a call of torch.FloatStorage, which is not allowed');
    const notCallable = new PickleBuilder().proto().str('os.system').emptyTuple().reduce().stop();
    expect(() => unpickle(notCallable.bytes())).toThrow('a call of "os.system", which is not callable');
    const inst = new PickleBuilder()
      .proto()
      .mark()
      .raw(0x69, ...Buffer.from('os\nsystem\n'))
      .stop();
    expect(() => unpickle(inst.bytes())).toThrow('INST/OBJ build arbitrary objects and are not allowed');
    const build = new PickleBuilder().proto().emptyDict().emptyDict().raw(0x62).stop();
    expect(() => unpickle(build.bytes())).toThrow("BUILD on dict; only an OrderedDict's attributes can be set");
    const hooks = stateDictPickle([
      { key: 'h', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 1, offset: 0, shape: [1], stride: [1] },
    ]);
    // backward_hooks = OrderedDict() becomes {0: 0}
    const withHooks = Buffer.from(hooks);
    const od = Buffer.from('ccollections\nOrderedDict\n)R', 'latin1');
    const at = withHooks.lastIndexOf(od);
    const edited = Buffer.concat([
      withHooks.subarray(0, at),
      Buffer.from([0x7d, 0x4b, 0, 0x4b, 0, 0x73]),
      withHooks.subarray(at + od.length),
    ]);
    expect(() => unpickle(edited)).toThrow('a tensor with backward hooks (code cannot be restored) (pickle at byte');
  });

  it('refuses damaged pickles and unknown storage types', () => {
    const ok = stateDictPickle([
      { key: 'k', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 4, offset: 0, shape: [4], stride: [1] },
    ]);
    expect(() => unpickle(ok.subarray(0, ok.length - 10))).toThrow(/the pickle ends (early|inside a text argument)/);
    const untyped = stateDictPickle([
      {
        key: 'k',
        storageClass: 'UntypedStorage',
        storageKey: '0',
        storageNumel: 4,
        offset: 0,
        shape: [4],
        stride: [1],
      },
    ]);
    expect(() => unpickle(untyped, 'data.pkl')).toThrow(
      /^unsupported global torch\.UntypedStorage: .*, while reading key "k"\)$/,
    );
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0xff]))).toThrow('unknown or unsupported opcode 0xff');
    expect(unpickle(new PickleBuilder().proto().mark().int(1).int(300).int(70000).tuple().stop().bytes())).toEqual(
      new PyTuple([1, 300, 70000]),
    );
  });
});
