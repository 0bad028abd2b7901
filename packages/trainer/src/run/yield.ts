// A training step on wasm or cpu never waits for I/O (tensor reads resolve at once), so a loop of steps would
// starve the event loop: a Ctrl-C (a signal event) or a timer would wait until the whole run ends. Loops await
// this between steps.

/** Lets pending events (signals, timers, I/O callbacks) run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
