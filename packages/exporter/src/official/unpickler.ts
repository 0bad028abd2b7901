// A restricted unpickler for the data.pkl of a torch.save'd state_dict. It interprets the pickle opcodes that
// torch.save emits (protocols 2 to 5) into plain values, and knows exactly the few callables a state_dict needs:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 and _rebuild_parameter, and persistent ids naming a
// storage (`('storage', torch.FloatStorage, key, location, numel)`). It never executes anything: any other global,
// callable or opcode is an error that names it and the state_dict key being read.

/** Element types of the storages we can read. */
export type TorchDType = 'float32' | 'bfloat16' | 'float16' | 'float64' | 'int64' | 'int32';

export const TORCH_DTYPE_BYTES: Record<TorchDType, number> = {
  float32: 4,
  bfloat16: 2,
  float16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
};

/** `torch.<X>Storage` classes of persistent ids, by X. */
const STORAGE_CLASSES: Record<string, TorchDType> = {
  FloatStorage: 'float32',
  BFloat16Storage: 'bfloat16',
  HalfStorage: 'float16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
};

/** `torch.<dtype>` objects, which stand in for the storage class where a storage is saved untyped. */
const DTYPE_GLOBALS: Record<string, TorchDType> = {
  float32: 'float32',
  float: 'float32',
  bfloat16: 'bfloat16',
  float16: 'float16',
  half: 'float16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
};

const ORDERED_DICT = 'collections.OrderedDict';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyList {
  constructor(readonly items: PyValue[]) {}
}

export type PyKey = string | number;

/** A dict or OrderedDict; `attributes` holds what BUILD set on it (an OrderedDict's `_metadata`). */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  attributes: Map<PyKey, PyValue> | null = null;
  constructor(readonly ordered: boolean) {}
}

/** A module-level name the pickle refers to; only allowed ones are ever created. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage named by a persistent id: its bytes are the zip entry `<archive>/data/<key>`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TorchDType,
    readonly location: string,
    /** elements of the storage */
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** in elements */
    readonly offset: number,
    readonly shape: number[],
    /** in elements */
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PyDict
  | PyGlobal
  | StorageRef
  | TensorRef;

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

const MARK = Symbol('mark');

/** Python's repr-ish description of a value, for messages. */
export function describePy(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (v instanceof PyTuple) return `tuple[${v.items.length}]`;
  if (v instanceof PyList) return `list[${v.items.length}]`;
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof StorageRef) return `storage ${v.key}`;
  return `tensor [${v.shape.join(', ')}]`;
}

/**
 * Interprets a pickle. `source` names it in errors (e.g. "step_0/data.pkl"). The result is the pickled object:
 * for a state_dict a PyDict (ordered) of string keys to TensorRef.
 */
export function unpickle(bytes: Uint8Array, source = 'pickle'): PyValue {
  return new Unpickler(bytes, source).run();
}

// The interpreter's state and the operations its opcodes are made of. The opcode tables below the class call these,
// so they are not private; the class itself stays inside this module.
class Unpickler {
  private pos = 0;
  private opAt = 0;
  private op = 0;
  private readonly stack: (PyValue | typeof MARK)[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly storages = new Map<string, StorageRef>();
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  /** the last key stored into a dict, for errors raised between keys */
  private lastKey: PyKey | null = null;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PyValue {
    for (;;) {
      this.opAt = this.pos;
      this.op = this.u8();
      if (this.op === OP.STOP) {
        if (this.stack.length !== 1) this.fail(`STOP with ${this.stack.length} items on the stack, expected 1`);
        return this.value(this.stack.pop()!);
      }
      const handler = OPCODES.get(this.op);
      if (!handler) this.fail(`unknown or unsupported opcode 0x${this.op.toString(16).padStart(2, '0')}`);
      handler(this);
    }
  }

  /** Where we are and which state_dict key is being read, for every message. */
  private context(): string {
    const key = this.pendingKey();
    const where =
      key !== null
        ? `while reading key ${JSON.stringify(key)}`
        : this.lastKey !== null
          ? `after key ${JSON.stringify(this.lastKey)}`
          : 'before the first key';
    return `${this.source} at byte ${this.opAt} (opcode 0x${this.op.toString(16).padStart(2, '0')}), ${where}`;
  }

  /**
   * The key whose value is being built: in the innermost dict's MARK frame (key, value, key, value, ...) the last
   * key, which is the last item when the count is odd, or the one before the partly built value (its callable)
   * when it is even.
   */
  private pendingKey(): PyKey | null {
    let found: PyKey | null = null;
    const s = this.stack;
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== MARK || i === 0 || !(s[i - 1] instanceof PyDict)) continue;
      let j = i + 1;
      while (j < s.length && s[j] !== MARK) j++;
      const count = j - i - 1;
      if (count === 0) continue;
      const key = s[count % 2 === 1 ? j - 1 : j - 2];
      if (typeof key === 'string' || typeof key === 'number') found = key;
    }
    // SETITEM without a MARK: [dict, key, value...]
    if (found === null && s.length >= 2 && s[s.length - 2] instanceof PyDict) {
      const k = s[s.length - 1];
      if (typeof k === 'string') found = k;
    }
    return found;
  }

  private error(message: string): PickleError {
    return new PickleError(`${message} (${this.context()})`);
  }

  fail(message: string): never {
    throw this.error(message);
  }

  private value(v: PyValue | typeof MARK): PyValue {
    if (v === MARK) this.fail('a MARK was used as a value');
    return v;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail(`the pickle ends early (needs ${n} more bytes)`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a length of ${v} bytes`);
    return Number(v);
  }

  /** A big-endian float64 (BINFLOAT, unlike the little-endian integers). */
  f64be(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  take(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  text(n: number): string {
    try {
      return this.utf8.decode(this.take(n));
    } catch {
      return this.fail('a string that is not valid UTF-8');
    }
  }

  /** A newline-terminated ASCII argument (protocol 0 opcodes). */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('the pickle ends inside a text argument');
    const s = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  push(v: PyValue): void {
    this.stack.push(v);
  }

  mark(): void {
    this.stack.push(MARK);
  }

  /** POP: drops the top item, a MARK included. */
  discard(): void {
    if (this.stack.length === 0) this.fail('the stack is empty');
    this.stack.pop();
  }

  pop(): PyValue {
    if (this.stack.length === 0) this.fail('the stack is empty');
    return this.value(this.stack.pop()!);
  }

  top(): PyValue {
    if (this.stack.length === 0) this.fail('the stack is empty');
    return this.value(this.stack[this.stack.length - 1]!);
  }

  /** Items pushed since the last MARK (which is removed). */
  popMark(): PyValue[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.fail('no MARK on the stack');
    const items = this.stack.splice(at) as PyValue[];
    items.shift();
    return items;
  }

  /** Stores the top item as memo entry i. */
  put(i: number): void {
    this.memo.set(i, this.top());
  }

  /** MEMOIZE's index: the next free one. */
  get memoSize(): number {
    return this.memo.size;
  }

  memoGet(i: number): PyValue {
    if (!this.memo.has(i)) this.fail(`memo entry ${i} was never stored`);
    return this.memo.get(i)!;
  }

  smallInt(v: bigint): number | bigint {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  /** Little-endian two's-complement integer of n bytes (LONG1 / LONG4). */
  long(n: number): number | bigint {
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return this.smallInt(v);
  }

  index(s: string): number {
    if (!/^\d+$/.test(s)) this.fail(`memo index ${JSON.stringify(s)}`);
    return Number(s);
  }

  list(v: PyValue): PyList {
    if (!(v instanceof PyList)) this.fail(`APPEND to ${describePy(v)}, expected a list`);
    return v;
  }

  dict(v: PyValue): PyDict {
    if (!(v instanceof PyDict)) this.fail(`SETITEM on ${describePy(v)}, expected a dict`);
    return v;
  }

  setItems(d: PyDict, items: PyValue[]): void {
    if (items.length % 2 !== 0) this.fail('a dict update with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (typeof k !== 'string' && typeof k !== 'number') this.fail(`a dict key ${describePy(k)}`);
      if (d.map.has(k)) this.fail(`key ${JSON.stringify(k)} appears twice`);
      d.map.set(k, items[i + 1]!);
      this.lastKey = k;
    }
  }

  global(module: string, name: string): PyGlobal {
    const q = `${module}.${name}`;
    const known =
      q === ORDERED_DICT ||
      q === REBUILD_TENSOR ||
      q === REBUILD_PARAMETER ||
      (module === 'torch' && (Object.hasOwn(STORAGE_CLASSES, name) || Object.hasOwn(DTYPE_GLOBALS, name)));
    if (!known)
      this.fail(
        `unsupported global ${q}: a state_dict of tensors needs only ${ORDERED_DICT}, ${REBUILD_TENSOR}, ` +
          `${REBUILD_PARAMETER} and torch.{${Object.keys(STORAGE_CLASSES).join(',')}}`,
      );
    return new PyGlobal(module, name);
  }

  call(callable: PyValue, args: PyValue): PyValue {
    if (!(callable instanceof PyGlobal)) this.fail(`a call of ${describePy(callable)}, which is not callable`);
    if (!(args instanceof PyTuple)) this.fail(`a call of ${callable.qualified} with ${describePy(args)} arguments`);
    const a = args.items;
    switch (callable.qualified) {
      case ORDERED_DICT:
        if (a.length > 0) this.fail(`${ORDERED_DICT} called with ${a.length} argument(s), expected none`);
        return new PyDict(true);
      case REBUILD_TENSOR:
        return this.rebuildTensor(a);
      case REBUILD_PARAMETER: {
        // (data, requires_grad, backward_hooks): a Parameter is its data for our purposes.
        if (a.length !== 3 || !(a[0] instanceof TensorRef))
          this.fail(`${REBUILD_PARAMETER} needs (tensor, requires_grad, backward_hooks)`);
        this.noHooks(a[2]!);
        return a[0];
      }
      default:
        return this.fail(`a call of ${callable.qualified}, which is not allowed`);
    }
  }

  private noHooks(h: PyValue): void {
    if (h !== null && !(h instanceof PyDict && h.map.size === 0))
      this.fail('a tensor with backward hooks (code cannot be restored)');
  }

  private ints(v: PyValue, what: string): number[] {
    if (!(v instanceof PyTuple) && !(v instanceof PyList)) this.fail(`${what} must be a tuple of integers`);
    return v.items.map((x) => {
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
        this.fail(`${what} must hold non-negative integers (got ${describePy(x)})`);
      return x;
    });
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
  private rebuildTensor(a: PyValue[]): TensorRef {
    if (a.length !== 6 && a.length !== 7) this.fail(`${REBUILD_TENSOR} with ${a.length} arguments, expected 6 or 7`);
    const [storage, offset, size, stride, requiresGrad, hooks] = a;
    if (!(storage instanceof StorageRef)) this.fail(`${REBUILD_TENSOR} on ${describePy(storage!)}, expected a storage`);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
      this.fail(`storage offset ${describePy(offset!)}`);
    const shape = this.ints(size!, 'size');
    const strides = this.ints(stride!, 'stride');
    if (shape.length !== strides.length) this.fail(`size [${shape}] and stride [${strides}] differ in length`);
    if (typeof requiresGrad !== 'boolean') this.fail(`requires_grad ${describePy(requiresGrad!)}`);
    this.noHooks(hooks!);
    return new TensorRef(storage, offset, shape, strides, requiresGrad);
  }

  build(target: PyValue, state: PyValue): void {
    if (!(target instanceof PyDict) || !target.ordered)
      this.fail(`BUILD on ${describePy(target)}; only an OrderedDict's attributes can be set`);
    // state is a dict of attributes, or (dict_state, slot_state) with either part None.
    const parts = state instanceof PyTuple ? state.items : [state];
    target.attributes ??= new Map();
    for (const p of parts) {
      if (p === null) continue;
      if (!(p instanceof PyDict)) this.fail(`BUILD state ${describePy(p)}, expected a dict`);
      for (const [k, v] of p.map) target.attributes.set(k, v);
    }
  }

  /** ('storage', torch.<X>Storage or torch.<dtype>, key, location, numel) */
  persistent(pid: PyValue): StorageRef {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
      this.fail(`persistent id ${describePy(pid)}, expected ('storage', type, key, location, numel)`);
    const [, type, key, location, numel] = pid.items;
    if (!(type instanceof PyGlobal) || type.module !== 'torch') this.fail(`storage type ${describePy(type!)}`);
    const dtype = STORAGE_CLASSES[type.name] ?? DTYPE_GLOBALS[type.name];
    if (!dtype) this.fail(`storage type ${type.qualified} is not supported`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) this.fail(`storage key ${describePy(key!)}`);
    if (typeof location !== 'string') this.fail(`storage location ${describePy(location!)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      this.fail(`storage size ${describePy(numel!)}`);
    const seen = this.storages.get(key);
    if (seen) {
      if (seen.dtype !== dtype || seen.numel !== numel)
        this.fail(`storage ${key} is named twice with different types or sizes`);
      return seen;
    }
    const ref = new StorageRef(key, dtype, location, numel);
    this.storages.set(key, ref);
    return ref;
  }
}

/** Opcode bytes by the names pickletools gives them; the protocol 0 ones are printable (MARK is '('). */
const OP = {
  STOP: 0x2e,
  PROTO: 0x80,
  FRAME: 0x95,
  MARK: 0x28,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  LONG4: 0x8b,
  INT: 0x49,
  LONG: 0x4c,
  BINFLOAT: 0x47,
  FLOAT: 0x46,
  BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  UNICODE: 0x56,
  SHORT_BINSTRING: 0x55,
  BINSTRING: 0x54,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  BINBYTES8: 0x8e,
  BYTEARRAY8: 0x96,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d,
  LIST: 0x6c,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_DICT: 0x7d,
  DICT: 0x64,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  MEMOIZE: 0x94,
  GET: 0x67,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  NEWOBJ: 0x81,
  NEWOBJ_EX: 0x92,
  BUILD: 0x62,
  BINPERSID: 0x51,
  PERSID: 0x50,
  INST: 0x69,
  OBJ: 0x6f,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

// The instruction set by family, one small handler per opcode. STOP ends the run loop; an opcode in no family is
// unknown or unsupported.
type OpHandler = (u: Unpickler) => void;
type OpFamily = Readonly<Record<number, OpHandler>>;

const FRAMING: OpFamily = {
  [OP.PROTO]: (u) => {
    const proto = u.u8();
    if (proto > 5) u.fail(`pickle protocol ${proto} is newer than 5`);
  },
  [OP.FRAME]: (u) => void u.u64(), // a length hint only
};

const STACK: OpFamily = {
  [OP.MARK]: (u) => u.mark(),
  [OP.POP]: (u) => u.discard(),
  [OP.POP_MARK]: (u) => void u.popMark(),
  [OP.DUP]: (u) => u.push(u.top()),
};

const NUMBERS: OpFamily = {
  [OP.NONE]: (u) => u.push(null),
  [OP.NEWTRUE]: (u) => u.push(true),
  [OP.NEWFALSE]: (u) => u.push(false),
  [OP.BININT]: (u) => u.push(u.i32()),
  [OP.BININT1]: (u) => u.push(u.u8()),
  [OP.BININT2]: (u) => u.push(u.u16()),
  [OP.LONG1]: (u) => u.push(u.long(u.u8())),
  [OP.LONG4]: (u) => {
    const n = u.i32();
    if (n < 0 || n > 64) u.fail(`an integer of ${n} bytes`);
    u.push(u.long(n));
  },
  [OP.INT]: (u) => {
    // protocol 0; "01"/"00" are True/False
    const s = u.line();
    if (s === '01' || s === '00') u.push(s === '01');
    else if (/^[-+]?\d+$/.test(s)) u.push(u.smallInt(BigInt(s)));
    else u.fail(`INT argument ${JSON.stringify(s)}`);
  },
  [OP.LONG]: (u) => {
    // protocol 0
    const s = u.line().replace(/L$/, '');
    if (!/^[-+]?\d+$/.test(s)) u.fail(`LONG argument ${JSON.stringify(s)}`);
    u.push(u.smallInt(BigInt(s)));
  },
  [OP.BINFLOAT]: (u) => u.push(u.f64be()),
  [OP.FLOAT]: (u) => {
    const v = Number(u.line());
    if (Number.isNaN(v)) u.fail('FLOAT argument is not a number');
    u.push(v);
  },
};

const STRINGS_AND_BYTES: OpFamily = {
  [OP.BINUNICODE]: (u) => u.push(u.text(u.u32())),
  [OP.SHORT_BINUNICODE]: (u) => u.push(u.text(u.u8())),
  [OP.BINUNICODE8]: (u) => u.push(u.text(u.u64())),
  [OP.UNICODE]: (u) => u.push(u.line()), // raw-unicode-escape; plain ASCII in practice
  [OP.SHORT_BINSTRING]: (u) => u.push(u.text(u.u8())),
  [OP.BINSTRING]: (u) => {
    const n = u.i32();
    if (n < 0) u.fail('a negative string length');
    u.push(u.text(n));
  },
  [OP.BINBYTES]: (u) => u.push(u.take(u.u32()).slice()),
  [OP.SHORT_BINBYTES]: (u) => u.push(u.take(u.u8()).slice()),
  [OP.BINBYTES8]: (u) => u.push(u.take(u.u64()).slice()),
  [OP.BYTEARRAY8]: (u) => u.push(u.take(u.u64()).slice()),
};

const CONTAINERS: OpFamily = {
  [OP.EMPTY_TUPLE]: (u) => u.push(new PyTuple([])),
  [OP.TUPLE]: (u) => u.push(new PyTuple(u.popMark())),
  [OP.TUPLE1]: (u) => u.push(new PyTuple([u.pop()])),
  [OP.TUPLE2]: (u) => {
    const b = u.pop();
    const a = u.pop();
    u.push(new PyTuple([a, b]));
  },
  [OP.TUPLE3]: (u) => {
    const c = u.pop();
    const b = u.pop();
    const a = u.pop();
    u.push(new PyTuple([a, b, c]));
  },
  [OP.EMPTY_LIST]: (u) => u.push(new PyList([])),
  [OP.LIST]: (u) => u.push(new PyList(u.popMark())),
  [OP.APPEND]: (u) => {
    const v = u.pop();
    u.list(u.top()).items.push(v);
  },
  [OP.APPENDS]: (u) => {
    const items = u.popMark();
    u.list(u.top()).items.push(...items);
  },
  [OP.EMPTY_DICT]: (u) => u.push(new PyDict(false)),
  [OP.DICT]: (u) => {
    const items = u.popMark();
    const d = new PyDict(false);
    u.setItems(d, items);
    u.push(d);
  },
  [OP.SETITEM]: (u) => {
    const v = u.pop();
    const k = u.pop();
    u.setItems(u.dict(u.top()), [k, v]);
  },
  [OP.SETITEMS]: (u) => {
    const items = u.popMark();
    u.setItems(u.dict(u.top()), items);
  },
};

const MEMO: OpFamily = {
  [OP.PUT]: (u) => u.put(u.index(u.line())),
  [OP.BINPUT]: (u) => u.put(u.u8()),
  [OP.LONG_BINPUT]: (u) => u.put(u.u32()),
  [OP.MEMOIZE]: (u) => u.put(u.memoSize),
  [OP.GET]: (u) => u.push(u.memoGet(u.index(u.line()))),
  [OP.BINGET]: (u) => u.push(u.memoGet(u.u8())),
  [OP.LONG_BINGET]: (u) => u.push(u.memoGet(u.u32())),
};

/** Globals, calls and persistent ids: only what a state_dict needs gets past `global`, `call` and `persistent`. */
const OBJECTS: OpFamily = {
  [OP.GLOBAL]: (u) => {
    const module = u.line();
    const name = u.line();
    u.push(u.global(module, name));
  },
  [OP.STACK_GLOBAL]: (u) => {
    const name = u.pop();
    const module = u.pop();
    if (typeof module !== 'string' || typeof name !== 'string') return u.fail('STACK_GLOBAL needs two strings');
    u.push(u.global(module, name));
  },
  [OP.REDUCE]: (u) => {
    const args = u.pop();
    const callable = u.pop();
    u.push(u.call(callable, args));
  },
  [OP.NEWOBJ]: (u) => {
    // cls.__new__(cls, *args)
    const args = u.pop();
    const cls = u.pop();
    u.push(u.call(cls, args));
  },
  [OP.NEWOBJ_EX]: (u) => {
    const kwargs = u.pop();
    const args = u.pop();
    const cls = u.pop();
    if (!(kwargs instanceof PyDict) || kwargs.map.size > 0) u.fail(`${describePy(cls)} called with keyword arguments`);
    u.push(u.call(cls, args));
  },
  [OP.BUILD]: (u) => {
    const state = u.pop();
    u.build(u.top(), state);
  },
  [OP.BINPERSID]: (u) => u.push(u.persistent(u.pop())),
};

/** Opcodes a state_dict never needs, refused with the reason. */
const REFUSED: OpFamily = {
  [OP.EMPTY_SET]: (u) => u.fail('sets do not occur in a state_dict'),
  [OP.ADDITEMS]: (u) => u.fail('sets do not occur in a state_dict'),
  [OP.FROZENSET]: (u) => u.fail('sets do not occur in a state_dict'),
  // a string id; torch always uses BINPERSID with a tuple
  [OP.PERSID]: (u) => u.fail(`persistent id ${JSON.stringify(u.line())} is not a torch storage`),
  [OP.INST]: (u) => u.fail('INST/OBJ build arbitrary objects and are not allowed'),
  [OP.OBJ]: (u) => u.fail('INST/OBJ build arbitrary objects and are not allowed'),
  [OP.EXT1]: (u) => u.fail('extension-registry references are not allowed'),
  [OP.EXT2]: (u) => u.fail('extension-registry references are not allowed'),
  [OP.EXT4]: (u) => u.fail('extension-registry references are not allowed'),
  [OP.NEXT_BUFFER]: (u) => u.fail('out-of-band buffers are not allowed'),
  [OP.READONLY_BUFFER]: (u) => u.fail('out-of-band buffers are not allowed'),
};

function opcodeTable(...families: OpFamily[]): ReadonlyMap<number, OpHandler> {
  const table = new Map<number, OpHandler>();
  for (const family of families)
    for (const [op, handler] of Object.entries(family)) {
      if (table.has(Number(op))) throw new Error(`opcode ${op} is in two families`);
      table.set(Number(op), handler);
    }
  return table;
}

const OPCODES = opcodeTable(FRAMING, STACK, NUMBERS, STRINGS_AND_BYTES, CONTAINERS, MEMO, OBJECTS, REFUSED);
