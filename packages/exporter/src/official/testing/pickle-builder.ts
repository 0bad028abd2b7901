// Test support: writes pickles opcode by opcode, and whole torch.save-style state_dict archives of hand-chosen
// tensors (any storage class, offset and strides), for the reader's tests.
import { buildZip, type ZipInput } from './zip-builder.js';

export class PickleBuilder {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(n = 2): this {
    return this.raw(0x80, n);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x58)
      .u32(b.length)
      .raw(...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    return this.raw(0x4a).u32(n);
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  bool(b: boolean): this {
    return this.raw(b ? 0x88 : 0x89);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').emptyTuple().reduce();
  }
  ints(xs: readonly number[]): this {
    this.mark();
    for (const x of xs) this.int(x);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface HandTensor {
  key: string;
  /** e.g. FloatStorage, BFloat16Storage, or a dtype name such as float32 */
  storageClass: string;
  storageKey: string;
  storageNumel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** The pickle torch.save writes for an OrderedDict of these tensors (protocol 2, no memo). */
export function stateDictPickle(tensors: readonly HandTensor[]): Uint8Array {
  const p = new PickleBuilder().proto(2).orderedDict().mark();
  for (const t of tensors) {
    p.str(t.key).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str('cpu').int(t.storageNumel).tuple();
    p.binpersid().int(t.offset).ints(t.shape).ints(t.stride).bool(false).orderedDict().tuple().reduce();
  }
  return p.setitems().stop().bytes();
}

/** A torch.save-style zip: `<archive>/data.pkl`, `<archive>/byteorder`, the storages, `<archive>/version`. */
export function torchZip(archive: string, pickle: Uint8Array, storages: Record<string, Uint8Array>): Uint8Array {
  const entries: ZipInput[] = [
    { name: `${archive}/data.pkl`, data: pickle },
    { name: `${archive}/byteorder`, data: Buffer.from('little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${archive}/data/${k}`, data })),
    { name: `${archive}/version`, data: Buffer.from('3\n') },
  ];
  return buildZip(entries);
}
