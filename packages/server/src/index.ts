// Public surface of @trm/server: the engine contract, the HTTP app and server. Test support (the fake engine and
// step function, an HTTP test client, puzzles with known answers) is `@trm/server/testing`.
export { Engine, ENGINE_DEFAULTS, type EngineOptions } from './engine/engine.js';
export * from './engine/types.js';
export { type AppOptions, createApp, DEFAULT_BODY_LIMIT, DEFAULT_PLAYGROUND_DIR } from './http/app.js';
export { hasPuzzleRows, type Lifecycle, type PuzzleRowSource } from './http/context.js';
export { HttpError } from './http/http-error.js';
export { openApiDocument } from './http/openapi.js';
export type { ErrorBody } from './http/schemas/error.js';
export type { ModelSummary } from './http/schemas/models.js';
export type { SolveRequestBody } from './http/schemas/solve-request.js';
export type { SolveResponseBody, StepEventBody } from './http/schemas/solve-response.js';
export { type RunningServer, type ServeOptions, serve } from './http/server.js';
