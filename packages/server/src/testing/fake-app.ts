// Test support for the HTTP tests that need more than one fake-engine server (not exported by
// `@trm/server/testing`, since it registers vitest hooks): the app on a FakeEngine of a task, closed after the
// file's tests, and POST /solve held to a 200 and to the response schema.
import type { TaskName } from '@trm/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, expect } from 'vitest';
import { type AppOptions, createApp } from '../http/app.js';
import { solveResponseSchema } from '../http/schemas/solve-response.js';
import { listen, type TestServer } from './client.js';
import { FakeEngine, type FakeEngineOptions } from './fake-engine.js';

const isSolveResponse = new Ajv2020({ strict: true }).compile(solveResponseSchema);

/**
 * `serve(task, options, app)`: a server on one fake engine of `task` (no playground), returned with the engine to
 * read what the HTTP layer sent. Call at the top of a test file: every server it starts closes after the file's
 * tests.
 */
export function fakeAppServers() {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  return async function serve(task: TaskName, options: FakeEngineOptions = {}, app: AppOptions = {}) {
    const engine = new FakeEngine({ task, name: task, ...options });
    const server = await listen(createApp(engine, { playgroundDir: null, ...app }));
    servers.push(server);
    return { engine, server };
  };
}

/** POST /solve that must answer 200 with a body that follows the response schema; returns the body. */
// biome-ignore lint/suspicious/noExplicitAny: every body returned here is first held to its JSON schema
export async function solveOk(server: TestServer, body: Record<string, unknown>): Promise<any> {
  const r = await server.post('/solve', body);
  expect(r.status, r.text).toBe(200);
  const parsed = JSON.parse(r.text);
  expect(isSolveResponse(parsed), JSON.stringify(isSolveResponse.errors)).toBe(true);
  return parsed;
}
