// One view over the two files import-official accepts: a torch.save zip and a .safetensors file holding the same
// tensors. Both list names, dtypes and shapes without reading data, and read one tensor at a time widened to
// float32 (bf16 and fp16 exactly; float64 rounded to nearest). Integer tensors are refused: TRM weights are floats.
import { open } from 'node:fs/promises';
import { bf16ToF32, f16ToF32, SafetensorsFile } from '@trm/core';
import { TorchCheckpoint, type TorchDType } from './torch-checkpoint.js';

export type SourceFormat = 'pytorch-zip' | 'safetensors';

/** dtype names as PyTorch spells them (safetensors' F32, BF16, ... are mapped to these). */
export type SourceDType = TorchDType | 'other';

export interface SourceTensor {
  /** the key as stored, prefix included */
  name: string;
  dtype: SourceDType;
  /** the dtype as the file spells it, for messages */
  storedAs: string;
  shape: number[];
}

export interface TensorSource {
  path: string;
  format: SourceFormat;
  /** bytes of the file */
  size: number;
  tensors: readonly SourceTensor[];
  /** The tensor's values as float32; throws naming the key for an integer tensor. */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

const SAFETENSORS_DTYPES: Record<string, TorchDType> = {
  F32: 'float32',
  BF16: 'bfloat16',
  F16: 'float16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
};

function notFloat(name: string, storedAs: string): Error {
  return new Error(`tensor ${name} has dtype ${storedAs}; TRM weights are floating point (float32, bfloat16, ...)`);
}

function widen(name: string, dtype: SourceDType, storedAs: string, data: ArrayBufferView): Float32Array {
  switch (dtype) {
    case 'float32':
      return data as Float32Array;
    case 'bfloat16':
      return bf16ToF32(data as Uint16Array);
    case 'float16':
      return f16ToF32(data as Uint16Array);
    case 'float64':
      return Float32Array.from(data as Float64Array);
    default:
      throw notFloat(name, storedAs);
  }
}

async function openTorch(path: string, size: number): Promise<TensorSource> {
  const ckpt = await TorchCheckpoint.open(path);
  const tensors = [...ckpt.tensors.values()].map((t) => ({
    name: t.name,
    dtype: t.dtype,
    storedAs: t.dtype,
    shape: t.shape,
  }));
  return {
    path,
    format: 'pytorch-zip',
    size,
    tensors,
    async readFloat32(name) {
      const info = ckpt.info(name);
      if (info.dtype === 'int64' || info.dtype === 'int32') throw notFloat(name, info.dtype);
      const t = await ckpt.read(name);
      return widen(name, t.dtype, t.dtype, t.data);
    },
    close: () => ckpt.close(),
  };
}

async function openSafetensors(path: string, size: number): Promise<TensorSource> {
  const file = await SafetensorsFile.open(path);
  const tensors = file.header.tensors.map((t) => ({
    name: t.name,
    dtype: SAFETENSORS_DTYPES[t.dtype] ?? ('other' as const),
    storedAs: t.dtype,
    shape: t.shape,
  }));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    path,
    format: 'safetensors',
    size,
    tensors,
    async readFloat32(name) {
      const t = byName.get(name);
      if (!t) throw new Error(`${path} has no tensor ${name}`);
      if (!['float32', 'bfloat16', 'float16', 'float64'].includes(t.dtype)) throw notFloat(name, t.storedAs);
      const stored = await file.read(name);
      return widen(name, t.dtype, t.storedAs, stored.data);
    },
    close: () => file.close(),
  };
}

/** Opens a checkpoint by its content: a zip is a torch.save archive, anything else must be safetensors. */
export async function openTensorSource(path: string): Promise<TensorSource> {
  const handle = await open(path, 'r');
  let head: Uint8Array;
  let size: number;
  try {
    size = (await handle.stat()).size;
    head = new Uint8Array(4);
    await handle.read(head, 0, Math.min(4, size), 0);
  } finally {
    await handle.close();
  }
  const zip = head[0] === 0x50 && head[1] === 0x4b; // "PK"
  const pickle = head[0] === 0x80; // a legacy torch.save file starts with a pickle
  if (zip || pickle) return openTorch(path, size);
  try {
    return await openSafetensors(path, size);
  } catch (err) {
    throw new Error(
      `${path} is neither a PyTorch checkpoint (a torch.save zip) nor a readable safetensors file: ${(err as Error).message}`,
    );
  }
}
