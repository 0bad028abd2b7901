// safetensors I/O: in-memory encode/decode, a streaming atomic writer, a random-access reader, and the dtype
// conversions (F16, BF16, I64) that checkpoints need. Only the public surface is re-exported.
export {
  bf16ToF32,
  bfloat16BitsToFloat32Bits,
  f32ToBf16,
  float32BitsToBfloat16Bits,
  fromBfloat16Bits,
  toBfloat16Bits,
} from './bfloat16.js';
export type { TensorChunk } from './bytes.js';
export { toFloat32 } from './cast.js';
export {
  type DTypeArray,
  type DTypeArrays,
  isSafetensorsDType,
  SAFETENSORS_DTYPES,
  type SafetensorsDType,
  type StoredTensor,
  dtypeSize as safetensorsDTypeSize,
} from './dtype.js';
export {
  f16ToF32,
  f32ToF16,
  float16BitsToFloat32Bits,
  float32BitsToFloat16Bits,
  fromFloat16Bits,
  toFloat16Bits,
} from './float16.js';
export type { SafetensorsEntry, SafetensorsHeader, SafetensorsSpec } from './header.js';
export { int64ToNumbers, numbersToInt64 } from './int64.js';
export { readSafetensors, readSafetensorsHeader, SafetensorsFile } from './reader.js';
export {
  type ParsedSafetensors,
  parseSafetensors,
  parseSafetensorsHeader,
  type SafetensorsOptions,
  type StoredTensorMap,
  serializeSafetensors,
} from './serialize.js';
export { type ChunkSource, SafetensorsWriter, type SafetensorsSource, writeSafetensors } from './writer.js';
