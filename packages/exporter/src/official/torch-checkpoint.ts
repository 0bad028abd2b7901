// Reading a checkpoint written by torch.save(model.state_dict()) without Python: a zip holding `<name>/data.pkl`
// (the pickled OrderedDict, read by the restricted unpickler), `<name>/data/<key>` (each storage's raw
// little-endian bytes), `<name>/byteorder` and `<name>/version`. Opening reads the directory and the pickle and
// checks every tensor against its storage; each tensor's bytes are read by offset only when asked for.
import { open } from 'node:fs/promises';
import { gatherStrided, isContiguous, numelOf, spanOf } from './strided.js';
import { describePy, PyDict, TensorRef, TORCH_DTYPE_BYTES, type TorchDType, unpickle } from './unpickler.js';
import { ZipArchive, ZipFormatError } from './zip-reader.js';

export type { TorchDType } from './unpickler.js';

/** Half-precision values travel as their raw bits (Node 20 has no Float16Array). */
export type TorchArray = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array;

export interface TorchTensor {
  dtype: TorchDType;
  shape: number[];
  /** row-major; bfloat16 and float16 as raw bit patterns */
  data: TorchArray;
}

/** A tensor of the state_dict before its bytes are read. */
export interface TorchTensorInfo {
  name: string;
  dtype: TorchDType;
  shape: number[];
  /** in elements */
  stride: number[];
  /** in elements, into the storage */
  offset: number;
  /** the zip entry holding the storage */
  storageEntry: string;
  /** where the tensor lived when saved, e.g. "cpu" or "cuda:0" */
  location: string;
}

export class TorchCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchCheckpointError';
  }
}

function typedView(dtype: TorchDType, bytes: Uint8Array, n: number): TorchArray {
  // `bytes` always starts a buffer of its own here, so every view is aligned.
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'float64':
      return new Float64Array(bytes.buffer, bytes.byteOffset, n);
    case 'bfloat16':
    case 'float16':
      return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    case 'int64':
      return new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
    case 'int32':
      return new Int32Array(bytes.buffer, bytes.byteOffset, n);
  }
}

/** Says why a file that is not a zip cannot be read, recognising the pre-1.6 torch.save format. */
async function notZipReason(path: string, err: ZipFormatError): Promise<string> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    await file.read(head, 0, 2, 0);
    if (head[0] === 0x80 && head[1]! <= 5)
      return `${path} is a legacy (non-zip) torch.save file (PyTorch < 1.6 or _use_new_zipfile_serialization=False), which is not supported: re-save it with a current PyTorch, or convert it to safetensors`;
  } finally {
    await file.close();
  }
  return err.message;
}

export class TorchCheckpoint {
  private constructor(
    readonly path: string,
    /** the folder name inside the zip, e.g. "step_0" */
    readonly archiveName: string,
    /** every tensor of the state_dict, in the pickle's order */
    readonly tensors: ReadonlyMap<string, TorchTensorInfo>,
    private readonly zip: ZipArchive,
  ) {}

  static async open(path: string): Promise<TorchCheckpoint> {
    let zip: ZipArchive;
    try {
      zip = await ZipArchive.open(path);
    } catch (err) {
      if (err instanceof ZipFormatError) throw new TorchCheckpointError(await notZipReason(path, err));
      throw err;
    }
    try {
      const pickles = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
      if (pickles.length !== 1) {
        const shown = zip.entries
          .slice(0, 8)
          .map((e) => e.name)
          .join(', ');
        throw new TorchCheckpointError(
          pickles.length === 0
            ? `${path} is a zip but not a torch.save archive: no <name>/data.pkl among its entries (${shown || 'none'})`
            : `${path} holds ${pickles.length} data.pkl entries (${pickles.map((e) => e.name).join(', ')}), expected one`,
        );
      }
      const archiveName = pickles[0]!.name.slice(0, -'/data.pkl'.length);
      const byteorderEntry = `${archiveName}/byteorder`;
      if (zip.has(byteorderEntry)) {
        const order = new TextDecoder().decode(await zip.read(byteorderEntry)).trim();
        if (order !== 'little')
          throw new TorchCheckpointError(
            `${path}: ${byteorderEntry} says "${order}"; only little-endian checkpoints are supported`,
          );
      }
      const pickleName = `${archiveName}/data.pkl`;
      const root = unpickle(await zip.read(pickleName), pickleName);
      const tensors = describeTensors(path, archiveName, root, zip);
      return new TorchCheckpoint(path, archiveName, tensors, zip);
    } catch (err) {
      await zip.close();
      throw err;
    }
  }

  info(name: string): TorchTensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new TorchCheckpointError(`${this.path} has no tensor ${name}`);
    return t;
  }

  /** Reads one tensor into a fresh row-major array (strided views are materialised). */
  async read(name: string): Promise<TorchTensor> {
    const t = this.info(name);
    const width = TORCH_DTYPE_BYTES[t.dtype];
    const n = numelOf(t.shape);
    if (n === 0) return { dtype: t.dtype, shape: t.shape, data: typedView(t.dtype, new Uint8Array(0), 0) };
    const span = spanOf(t.shape, t.stride);
    let bytes: Uint8Array;
    try {
      bytes = await this.zip.read(t.storageEntry, t.offset * width, span * width);
    } catch (err) {
      if (err instanceof ZipFormatError) throw new TorchCheckpointError(`tensor ${name}: ${err.message}`);
      throw err;
    }
    if (!isContiguous(t.shape, t.stride)) bytes = gatherStrided(bytes, width, t.shape, t.stride);
    return { dtype: t.dtype, shape: t.shape, data: typedView(t.dtype, bytes, n) };
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

/** Checks the unpickled object is a state_dict and every tensor fits its storage; returns them in order. */
function describeTensors(
  path: string,
  archiveName: string,
  root: ReturnType<typeof unpickle>,
  zip: ZipArchive,
): Map<string, TorchTensorInfo> {
  if (!(root instanceof PyDict))
    throw new TorchCheckpointError(
      `${path} holds ${describePy(root)} where a state_dict (an OrderedDict of tensors) was expected`,
    );
  const out = new Map<string, TorchTensorInfo>();
  for (const [key, value] of root.map) {
    if (typeof key !== 'string') throw new TorchCheckpointError(`${path}: state_dict key ${key} is not a string`);
    if (!(value instanceof TensorRef))
      throw new TorchCheckpointError(
        `${path}: key ${JSON.stringify(key)} holds ${describePy(value)}, not a tensor; expected a plain state_dict ` +
          '(the official trainer saves torch.save(model.state_dict()))',
      );
    const s = value.storage;
    const width = TORCH_DTYPE_BYTES[s.dtype];
    const storageEntry = `${archiveName}/data/${s.key}`;
    const need = numelOf(value.shape) === 0 ? 0 : value.offset + spanOf(value.shape, value.stride);
    if (need > s.numel)
      throw new TorchCheckpointError(
        `${path}: tensor ${key} [${value.shape.join(', ')}] (offset ${value.offset}, stride [${value.stride.join(', ')}]) reaches element ${need} of storage ${s.key}, which has ${s.numel}`,
      );
    if (need > 0) {
      if (!zip.has(storageEntry))
        throw new TorchCheckpointError(`${path}: tensor ${key} needs storage entry ${storageEntry}, which is missing`);
      const size = zip.entry(storageEntry).size;
      if (size < s.numel * width)
        throw new TorchCheckpointError(
          `${path}: tensor ${key}: storage ${storageEntry} is truncated (${size} bytes, ${s.numel} ${s.dtype} elements need ${s.numel * width})`,
        );
    }
    out.set(key, {
      name: key,
      dtype: s.dtype,
      shape: value.shape,
      stride: value.stride,
      offset: value.offset,
      storageEntry,
      location: s.location,
    });
  }
  return out;
}

/** Every tensor of a torch.save'd state_dict (for files that fit in memory; see TorchCheckpoint for large ones). */
export async function readTorchCheckpoint(path: string): Promise<Map<string, TorchTensor>> {
  const ckpt = await TorchCheckpoint.open(path);
  try {
    const out = new Map<string, TorchTensor>();
    for (const name of ckpt.tensors.keys()) out.set(name, await ckpt.read(name));
    return out;
  } finally {
    await ckpt.close();
  }
}
