// A wall that gradients do not cross. tfjs has no stop-gradient op, and comparison ops (Equal, Less, ...) have
// no gradient at all: a comparison on a differentiated path makes tf.grads throw even when its result only
// feeds a target. Wrapping such a computation here records it as one op whose gradient is zero.
import * as tf from '@tensorflow/tfjs';

/** Returns fn as an op of one tensor whose gradient with respect to that tensor is zero. */
export function withoutGradient<T extends tf.Tensor>(fn: (x: tf.Tensor) => T): (x: tf.Tensor) => T {
  const wrapped = tf.customGrad((x) => {
    const input = x as tf.Tensor;
    return { value: fn(input), gradFunc: () => tf.zerosLike(input) };
  });
  return (x: tf.Tensor) => wrapped(x) as T;
}
