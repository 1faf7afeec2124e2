// Conformance: SessionBus, the domain layer, over each transport — a gateway and two workers
// as separate "processes" on one backend.
import { expect, it } from 'vitest';
import { allBytes, eventually, unique, type TransportFixture } from './conformance-support.js';
import type { InputMessage, OpenRequest, SessionMessage } from './messages.js';
import { SessionBus } from './session-bus.js';

export function sessionBusTests(fixture: () => TransportFixture): void {
  it('carries session messages from worker to gateway: seq, every byte, in order', async () => {
    const gateway = new SessionBus(await fixture().open());
    const worker = new SessionBus(await fixture().open());
    const sessionId = unique('sess');
    const received: SessionMessage[] = [];
    await gateway.watch(sessionId, (msg) => received.push(msg));
    const sent: SessionMessage[] = [
      { type: 'accepted', workerId: 'worker-1' },
      { type: 'ready', hostKeyFingerprint: 'SHA256:abc', hostKeyPinned: true },
      { type: 'output', seq: 1, offset: 0, data: allBytes() },
      { type: 'output', seq: 2, offset: 256, data: Buffer.alloc(0) },
      {
        type: 'output',
        seq: Number.MAX_SAFE_INTEGER,
        offset: 2 ** 40,
        data: Buffer.from('héllo\r\n\x1b[0m'),
      },
      { type: 'ended', reason: 'exit', message: 'bye', exitCode: 0, exitSignal: null },
    ];
    for (const msg of sent) await worker.publish(sessionId, msg);
    await eventually(() => received.length).toBe(sent.length);
    expect(received).toEqual(sent);
  });

  it('carries input from gateway to the owning worker', async () => {
    const gateway = new SessionBus(await fixture().open());
    const worker = new SessionBus(await fixture().open());
    const sessionId = unique('sess');
    const received: InputMessage[] = [];
    await worker.listenInput(sessionId, (msg) => received.push(msg));
    const sent: InputMessage[] = [
      { type: 'input', userId: 'user-ü', data: allBytes() },
      { type: 'input', userId: '', data: Buffer.from([0x03]) },
      { type: 'resize', userId: 'user-1', cols: 120, rows: 40 },
      { type: 'close', userId: 'user-1' },
    ];
    for (const msg of sent) await gateway.sendInput(sessionId, msg);
    await eventually(() => received.length).toBe(sent.length);
    expect(received).toEqual(sent);
  });

  it("keeps a session's admission verdict for a worker that asks later, and tells one listening", async () => {
    const gateway = new SessionBus(await fixture().open());
    const worker = new SessionBus(await fixture().open());
    const [admitted, refused, undecided] = ['a', 'r', 'u'].map((n) => unique(`sess-${n}`));
    const heard: InputMessage[] = [];
    await worker.listenInput(admitted!, (msg) => heard.push(msg));

    await gateway.admit(admitted!, true, 60_000);
    await gateway.admit(refused!, false, 60_000);
    // The first verdict stands: a second one is neither kept nor told.
    await gateway.admit(admitted!, false, 60_000);

    expect(await worker.admission(admitted!)).toBe(true);
    expect(await worker.admission(refused!)).toBe(false);
    expect(await worker.admission(undecided!)).toBeNull();
    await eventually(() => heard.length).toBe(1);
    expect(heard).toEqual([{ type: 'admission', admitted: true }]);
  });

  it('forgets an admission verdict once its time is up', async () => {
    const gateway = new SessionBus(await fixture().open());
    const sessionId = unique('sess');
    await gateway.admit(sessionId, true, 100);
    expect(await gateway.admission(sessionId)).toBe(true);
    await eventually(() => gateway.admission(sessionId)).toBeNull();
  });

  it('places an open request with exactly one of two workers, which takes ownership', async () => {
    const options = { claimIdleMs: 5_000, leaseTtlMs: 60_000 };
    const gateway = new SessionBus(await fixture().open(), options);
    const handled: { workerId: string; request: OpenRequest }[] = [];
    for (const workerId of ['worker-a', 'worker-b']) {
      const bus = new SessionBus(await fixture().open(), options);
      bus.serveOpenRequests({
        workerId,
        hasCapacity: () => true,
        handler: async (request) => {
          handled.push({ workerId, request });
          await bus.claimOwnership(request.sessionId, workerId);
        },
      });
    }
    const requests: OpenRequest[] = [1, 2, 3].map((n) => ({
      sessionId: unique(`sess${n}`),
      kind: 'shell',
      userId: 'user-1',
      username: 'alice',
      serverId: 'server-1',
      attachId: `attach-${n}`,
      clientIp: '127.0.0.1',
      cols: 80,
      rows: 24,
      deadline: Date.now() + 30_000,
    }));
    for (const request of requests) await gateway.requestOpen(request);
    await eventually(() => handled.length).toBe(requests.length);
    const byId = new Map(handled.map((h) => [h.request.sessionId, h]));
    expect(byId.size).toBe(requests.length);
    for (const request of requests) expect(byId.get(request.sessionId)?.request).toEqual(request);
    const expectedOwners = requests.map((r) => byId.get(r.sessionId)?.workerId);
    await eventually(() => gateway.owners(requests.map((r) => r.sessionId))).toEqual(
      expectedOwners,
    );
  });
}
