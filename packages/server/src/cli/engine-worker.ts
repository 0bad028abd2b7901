// The inference worker thread of the server's engine (engine/worker/worker-main.ts). It lives under cli/ so that
// `pnpm build` bundles it to dist/engine-worker.mjs next to the commands that start workers; it is not a command.
import { runWorker } from '../engine/worker/worker-main.js';

await runWorker();
