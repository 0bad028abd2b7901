// Inlining one graph into another: the nodes of a finished graph appended to a builder under renamed values, its
// inputs bound to values of the builder, its initializers shared between all the copies. A graph of k training
// steps is k copies of the one-step training graph joined by the nodes that carry state from one to the next.
import type { GraphBuilder } from './graph-builder.js';
import type { NodeMsg, TensorMsg } from './onnx-proto.js';

/** A finished graph's parts, as a GraphBuilder holds them. */
export interface GraphParts {
  nodes: readonly NodeMsg[];
  initializers: readonly TensorMsg[];
  domains: Iterable<string>;
}

/**
 * Appends the nodes of `sub` to `g`. Each of `sub`'s graph inputs must be bound in `bind` (to a value of `g`); its
 * initializers are added to `g` once under `shared` + name (later copies reuse them); every other value and node
 * name gets `prefix` in front. Returns the name that value `v` of `sub` has in `g`.
 */
export function inlineGraph(
  g: GraphBuilder,
  sub: GraphParts,
  bind: Readonly<Record<string, string>>,
  prefix: string,
  shared: string,
): (v: string) => string {
  const inits = new Set(sub.initializers.map((t) => t.name));
  for (const t of sub.initializers) {
    const name = shared + t.name;
    if (!g.initializerOf(name)) g.addTensor({ ...t, name });
  }
  const rename = (v: string): string => {
    if (v === '') return v;
    const bound = bind[v];
    if (bound !== undefined) return bound;
    return inits.has(v) ? shared + v : prefix + v;
  };
  for (const node of sub.nodes) {
    if (node.attribute.some((a) => a.g !== undefined))
      throw new Error(`inlineGraph: node ${node.name} has a subgraph, which is not renamed`);
    g.nodes.push({ ...node, name: prefix + node.name, input: node.input.map(rename), output: node.output.map(rename) });
  }
  for (const d of sub.domains) if (d) g.domains.add(d);
  return rename;
}
