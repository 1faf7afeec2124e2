import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRegistry } from '@sallyport/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../services/session-worker/src/metrics.js';
import { startServiceMetrics } from './service-metrics.js';

// A full collection on demand: V8 exposes gc() to contexts made after the flag is set.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let server: Server | undefined;
afterEach(() => server?.close());

/** Serves /metrics as a Sallyport process does, from the same registry setup. */
async function serveMetrics(status = 200, registry = createRegistry({ service: 'test' })) {
  server = createServer((_req, res) => {
    void registry.metrics().then((text) => {
      res.writeHead(status, { 'content-type': registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

describe('startServiceMetrics', () => {
  it('counts the full collections between its two scrapes, and reads the loop lag', async () => {
    const url = await serveMetrics();
    const finish = await startServiceMetrics([{ name: 'svc', url }]);
    // A turn first, so that collections the scrape itself caused are delivered on their own:
    // prom-client counts only the first entry of each batch.
    await new Promise((resolve) => setTimeout(resolve, 20));
    collectGarbage();
    // prom-client hears of a collection once perf_hooks delivers its entry, a turn later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { fullCollections, loopLag, shellPausedMs } = await finish();
    expect(fullCollections.svc?.count).toBe(1);
    expect(fullCollections.svc?.pauseMs).toBeGreaterThan(0);
    expect(loopLag.svc?.p99).toBeGreaterThanOrEqual(0);
    expect(shellPausedMs).toEqual({}); // not a worker
  });

  it("reads the time a worker's shells spent paused between its two scrapes, by reason", async () => {
    const registry = createRegistry({ service: 'test' });
    const paused = createWorkerMetrics(registry, () => 0).outputPausedSeconds;
    paused.inc({ reason: 'client' }, 3);
    const worker = await serveMetrics(200, registry);
    const finish = await startServiceMetrics([{ name: 'worker', url: worker }]);
    paused.inc({ reason: 'client' }, 0.25);
    paused.inc({ reason: 'bus' }, 0.5);
    const { shellPausedMs } = await finish();
    // The bus's series first appeared between the scrapes: all of it is new.
    expect(shellPausedMs).toEqual({ worker: { client: 250, bus: 500 } });
  });

  it('reports nothing for a process whose /metrics fails, rather than failing the run', async () => {
    const url = await serveMetrics(500);
    const finish = await startServiceMetrics([{ name: 'svc', url }]);
    expect(await finish()).toEqual({ loopLag: {}, fullCollections: {}, shellPausedMs: {} });
  });
});
