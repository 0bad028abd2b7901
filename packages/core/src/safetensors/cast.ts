// Widening any stored tensor to float32, the dtype the trainer and the ONNX graph compute in (an official
// checkpoint stores H_init/L_init as BF16; an fp16 export stores F16).
import { bf16ToF32 } from './bfloat16.js';
import type { StoredTensor } from './dtype.js';
import { f16ToF32 } from './float16.js';
import { int64ToNumbers } from './int64.js';

/** The tensor's values as a Float32Array (an F32 tensor's own array is returned as is, not copied). */
export function toFloat32(t: StoredTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F16':
      return f16ToF32(t.data as Uint16Array);
    case 'BF16':
      return bf16ToF32(t.data as Uint16Array);
    case 'I64':
    case 'U64':
      return Float32Array.from(int64ToNumbers(t.data as BigInt64Array | BigUint64Array));
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}
