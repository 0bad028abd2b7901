// The entry point of reverse-mode differentiation: addGradients with the rules of every op this project
// differentiates (rules.ts).
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { addGradients, type GradientOptions } from './gradients.js';
import { RULES } from './rules.js';
import type { ShapeTable } from './shapes.js';

/** Appends d loss / d v for each v of `wrt` to `g` and returns the gradients' value names. */
export function differentiate(
  g: GraphBuilder,
  shapes: ShapeTable,
  loss: string,
  wrt: readonly string[],
  options: GradientOptions = {},
): Record<string, string> {
  return addGradients(g, shapes, loss, wrt, RULES, options);
}

/** The ops that have a gradient rule. */
export const DIFFERENTIABLE_OPS: readonly string[] = Object.keys(RULES);
