// One-hot encoding as float32 that is right on every backend: the wasm backend's OneHot kernel (tfjs 4.22)
// ignores a float32 dtype and writes the integer 1 bit pattern (1.4e-45) into a float32 tensor, so we one-hot
// encode as int32 and cast.
import * as tf from '@tensorflow/tfjs';

/** [..., depth] float32 with 1 at each index; indices outside [0, depth) give a zero row. */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(tf.cast(indices, 'int32'), depth), 'float32');
}
