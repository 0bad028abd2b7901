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
      if (this.op === 0x2e /* . STOP */) {
        if (this.stack.length !== 1) this.fail(`STOP with ${this.stack.length} items on the stack, expected 1`);
        return this.value(this.stack.pop()!);
      }
      this.step(this.op);
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

  private fail(message: string): never {
    throw this.error(message);
  }

  private value(v: PyValue | typeof MARK): PyValue {
    if (v === MARK) this.fail('a MARK was used as a value');
    return v;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail(`the pickle ends early (needs ${n} more bytes)`);
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a length of ${v} bytes`);
    return Number(v);
  }

  private take(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  private text(n: number): string {
    try {
      return this.utf8.decode(this.take(n));
    } catch {
      return this.fail('a string that is not valid UTF-8');
    }
  }

  /** A newline-terminated ASCII argument (protocol 0 opcodes). */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('the pickle ends inside a text argument');
    const s = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private pop(): PyValue {
    if (this.stack.length === 0) this.fail('the stack is empty');
    return this.value(this.stack.pop()!);
  }

  private top(): PyValue {
    if (this.stack.length === 0) this.fail('the stack is empty');
    return this.value(this.stack[this.stack.length - 1]!);
  }

  /** Items pushed since the last MARK (which is removed). */
  private popMark(): PyValue[] {
    const at = this.stack.lastIndexOf(MARK);
    if (at < 0) this.fail('no MARK on the stack');
    const items = this.stack.splice(at) as PyValue[];
    items.shift();
    return items;
  }

  private memoGet(i: number): PyValue {
    if (!this.memo.has(i)) this.fail(`memo entry ${i} was never stored`);
    return this.memo.get(i)!;
  }

  private smallInt(v: bigint): number | bigint {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  /** Little-endian two's-complement integer of n bytes (LONG1 / LONG4). */
  private long(n: number): number | bigint {
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return this.smallInt(v);
  }

  private step(op: number): void {
    switch (op) {
      case 0x80: {
        // PROTO
        const proto = this.u8();
        if (proto > 5) this.fail(`pickle protocol ${proto} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: a length hint only
        this.u64();
        break;
      case 0x28: // ( MARK
        this.stack.push(MARK);
        break;
      case 0x30: // 0 POP
        if (this.stack.length === 0) this.fail('the stack is empty');
        this.stack.pop();
        break;
      case 0x31: // 1 POP_MARK
        this.popMark();
        break;
      case 0x32: // 2 DUP
        this.push(this.top());
        break;
      case 0x4e: // N NONE
        this.push(null);
        break;
      case 0x88: // NEWTRUE
        this.push(true);
        break;
      case 0x89: // NEWFALSE
        this.push(false);
        break;
      case 0x4a: // J BININT
        this.push(this.i32());
        break;
      case 0x4b: // K BININT1
        this.push(this.u8());
        break;
      case 0x4d: // M BININT2
        this.push(this.u16());
        break;
      case 0x8a: // LONG1
        this.push(this.long(this.u8()));
        break;
      case 0x8b: {
        // LONG4
        const n = this.i32();
        if (n < 0 || n > 64) this.fail(`an integer of ${n} bytes`);
        this.push(this.long(n));
        break;
      }
      case 0x49: {
        // I INT (protocol 0; "01"/"00" are True/False)
        const s = this.line();
        if (s === '01' || s === '00') this.push(s === '01');
        else if (/^[-+]?\d+$/.test(s)) this.push(this.smallInt(BigInt(s)));
        else this.fail(`INT argument ${JSON.stringify(s)}`);
        break;
      }
      case 0x4c: {
        // L LONG (protocol 0)
        const s = this.line().replace(/L$/, '');
        if (!/^[-+]?\d+$/.test(s)) this.fail(`LONG argument ${JSON.stringify(s)}`);
        this.push(this.smallInt(BigInt(s)));
        break;
      }
      case 0x47: {
        // G BINFLOAT (big-endian)
        this.need(8);
        const v = this.view.getFloat64(this.pos, false);
        this.pos += 8;
        this.push(v);
        break;
      }
      case 0x46: {
        // F FLOAT
        const v = Number(this.line());
        if (Number.isNaN(v)) this.fail('FLOAT argument is not a number');
        this.push(v);
        break;
      }
      case 0x58: // X BINUNICODE
        this.push(this.text(this.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        this.push(this.text(this.u8()));
        break;
      case 0x8d: // BINUNICODE8
        this.push(this.text(this.u64()));
        break;
      case 0x56: // V UNICODE (raw-unicode-escape; plain ASCII in practice)
        this.push(this.line());
        break;
      case 0x55: // U SHORT_BINSTRING
        this.push(this.text(this.u8()));
        break;
      case 0x54: {
        // T BINSTRING
        const n = this.i32();
        if (n < 0) this.fail('a negative string length');
        this.push(this.text(n));
        break;
      }
      case 0x42: // B BINBYTES
        this.push(this.take(this.u32()).slice());
        break;
      case 0x43: // C SHORT_BINBYTES
        this.push(this.take(this.u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        this.push(this.take(this.u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        this.push(this.take(this.u64()).slice());
        break;
      case 0x29: // ) EMPTY_TUPLE
        this.push(new PyTuple([]));
        break;
      case 0x74: // t TUPLE
        this.push(new PyTuple(this.popMark()));
        break;
      case 0x85: // TUPLE1
        this.push(new PyTuple([this.pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = this.pop();
        const b = this.pop();
        const a = this.pop();
        this.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d: // ] EMPTY_LIST
        this.push(new PyList([]));
        break;
      case 0x6c: // l LIST
        this.push(new PyList(this.popMark()));
        break;
      case 0x61: {
        // a APPEND
        const v = this.pop();
        this.list(this.top()).items.push(v);
        break;
      }
      case 0x65: {
        // e APPENDS
        const items = this.popMark();
        this.list(this.top()).items.push(...items);
        break;
      }
      case 0x7d: // } EMPTY_DICT
        this.push(new PyDict(false));
        break;
      case 0x64: {
        // d DICT
        const items = this.popMark();
        const d = new PyDict(false);
        this.setItems(d, items);
        this.push(d);
        break;
      }
      case 0x73: {
        // s SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.dict(this.top()), [k, v]);
        break;
      }
      case 0x75: {
        // u SETITEMS
        const items = this.popMark();
        this.setItems(this.dict(this.top()), items);
        break;
      }
      case 0x8f: // EMPTY_SET
      case 0x90: // ADDITEMS
      case 0x91: // FROZENSET
        throw this.error('sets do not occur in a state_dict');
      case 0x70: // p PUT
        this.memo.set(this.index(this.line()), this.top());
        break;
      case 0x71: // q BINPUT
        this.memo.set(this.u8(), this.top());
        break;
      case 0x72: // r LONG_BINPUT
        this.memo.set(this.u32(), this.top());
        break;
      case 0x94: // MEMOIZE
        this.memo.set(this.memo.size, this.top());
        break;
      case 0x67: // g GET
        this.push(this.memoGet(this.index(this.line())));
        break;
      case 0x68: // h BINGET
        this.push(this.memoGet(this.u8()));
        break;
      case 0x6a: // j LONG_BINGET
        this.push(this.memoGet(this.u32()));
        break;
      case 0x63: {
        // c GLOBAL
        const module = this.line();
        const name = this.line();
        this.push(this.global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
        this.push(this.global(module, name));
        break;
      }
      case 0x52: {
        // R REDUCE
        const args = this.pop();
        const callable = this.pop();
        this.push(this.call(callable, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0)
          this.fail(`${describePy(cls)} called with keyword arguments`);
        this.push(this.call(cls, args));
        break;
      }
      case 0x62: {
        // b BUILD
        const state = this.pop();
        this.build(this.top(), state);
        break;
      }
      case 0x51: {
        // Q BINPERSID
        const pid = this.pop();
        this.push(this.persistent(pid));
        break;
      }
      case 0x50: // P PERSID (a string id; torch always uses BINPERSID with a tuple)
        throw this.error(`persistent id ${JSON.stringify(this.line())} is not a torch storage`);
      case 0x69: // i INST
      case 0x6f: // o OBJ
        throw this.error('INST/OBJ build arbitrary objects and are not allowed');
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw this.error('extension-registry references are not allowed');
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw this.error('out-of-band buffers are not allowed');
      default:
        throw this.error(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private index(s: string): number {
    if (!/^\d+$/.test(s)) this.fail(`memo index ${JSON.stringify(s)}`);
    return Number(s);
  }

  private list(v: PyValue): PyList {
    if (!(v instanceof PyList)) this.fail(`APPEND to ${describePy(v)}, expected a list`);
    return v;
  }

  private dict(v: PyValue): PyDict {
    if (!(v instanceof PyDict)) this.fail(`SETITEM on ${describePy(v)}, expected a dict`);
    return v;
  }

  private setItems(d: PyDict, items: PyValue[]): void {
    if (items.length % 2 !== 0) this.fail('a dict update with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (typeof k !== 'string' && typeof k !== 'number') this.fail(`a dict key ${describePy(k)}`);
      if (d.map.has(k)) this.fail(`key ${JSON.stringify(k)} appears twice`);
      d.map.set(k, items[i + 1]!);
      this.lastKey = k;
    }
  }

  private global(module: string, name: string): PyGlobal {
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

  private call(callable: PyValue, args: PyValue): PyValue {
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

  private build(target: PyValue, state: PyValue): void {
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
  private persistent(pid: PyValue): StorageRef {
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
