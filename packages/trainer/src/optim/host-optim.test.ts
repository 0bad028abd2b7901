// The host optimiser's worker threads over many steps: the same update as on one thread, and no listeners left
// behind on the workers (a pile of them once set off Node's MaxListenersExceededWarning after ten steps).
import { describe, expect, it } from 'vitest';
import { HostOptimizer } from './host-optim.js';

const initial = () => ({
  a: { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7 - 1) },
  b: { shape: [8], data: Float32Array.from({ length: 8 }, (_, i) => 0.5 - i / 9) },
});
const hyper = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };

describe('HostOptimizer', () => {
  it('runs 30 updates on 3 threads like one thread, leaving no listeners behind', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const one = new HostOptimizer(initial(), { optimizer: 'adam_atan2', hyper, emaRate: 0.999 });
    const three = new HostOptimizer(initial(), { optimizer: 'adam_atan2', hyper, emaRate: 0.999, threads: 3 });
    for (let s = 0; s < 30; s++) {
      const grads = {
        a: Float32Array.from({ length: 15 }, (_, i) => Math.sin(s + i)),
        b: Float32Array.from({ length: 8 }, (_, i) => Math.cos(s * i)),
      };
      await one.apply(grads, 1e-2);
      await three.apply(grads, 1e-2);
    }
    await new Promise((r) => setTimeout(r, 10)); // warnings are emitted on the next tick
    process.off('warning', onWarning);
    expect(Array.from(three.params.a!.data)).toEqual(Array.from(one.params.a!.data));
    expect(Array.from(three.shadow!.b!.data)).toEqual(Array.from(one.shadow!.b!.data));
    expect(one.params.a!.data[0]).not.toBe(initial().a.data[0]);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    await one.dispose();
    await three.dispose();
  });
});
