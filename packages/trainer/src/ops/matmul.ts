// Matrix products whose gradients use explicit transposes. tfjs's own matMul gradient multiplies with the
// transpose flags set, and on the wasm backend XNNPACK only accelerates the plain product: flagged products run
// about 10x slower (RUNTIME-NOTES.md). Every product of the model goes through `matmul` or `linear` below.
import * as tf from '@tensorflow/tfjs';

/** Swaps the last two axes (rank 2 or 3). */
function swapLast(x: tf.Tensor): tf.Tensor {
  return x.rank === 2 ? tf.transpose(x, [1, 0]) : tf.transpose(x, [0, 2, 1]);
}

const matmulGrad = tf.customGrad((a, b, save) => {
  const [ta, tb] = [a as tf.Tensor, b as tf.Tensor];
  (save as tf.GradSaveFunc)([ta, tb]);
  return {
    value: tf.matMul(ta, tb),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
    },
  };
});

/**
 * a @ b for [m, k] x [k, n] or batched [n, m, k] x [n, k, n'] (equal batch sizes, no broadcasting).
 * Higher ranks are folded into one batch axis.
 */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank !== b.rank) throw new Error(`matmul expects operands of equal rank (got ${a.rank} and ${b.rank})`);
  if (a.rank <= 3) return matmulGrad(a, b);
  const batch = a.shape.slice(0, -2);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const out = matmulGrad(a.reshape([-1, m, k]), b.reshape([-1, k, n]));
  return out.reshape([...batch, m, n]);
}

const linearGrad = tf.customGrad((x, w, save) => {
  const [tx, tw] = [x as tf.Tensor2D, w as tf.Tensor2D];
  (save as tf.GradSaveFunc)([tx, tw]);
  return {
    value: tf.matMul(tx, tf.transpose(tw)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      // dx = dy W (plain); dW = dy^T x (explicit transpose of dy).
      return [tf.matMul(dy, sw), tf.matMul(tf.transpose(dy), sx)];
    },
  };
});

/** PyTorch's F.linear without bias: x [..., in] times W [out, in] transposed, giving [..., out]. */
export function linear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const inF = w.shape[1]!;
  const outF = w.shape[0]!;
  if (x.shape[x.rank - 1] !== inF)
    throw new Error(`linear: input width ${x.shape[x.rank - 1]} does not match weight [${w.shape.join(', ')}]`);
  const lead = x.shape.slice(0, -1);
  return linearGrad(x.reshape([-1, inF]), w).reshape([...lead, outF]);
}
