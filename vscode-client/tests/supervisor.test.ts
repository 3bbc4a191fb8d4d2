import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../src/backoff';
import { Supervisor, type ManagedClient, type SupervisorState, type Timers } from '../src/supervisor';

class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs due timers in order, letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
  get size(): number {
    return this.pending.size;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

class FakeClient implements ManagedClient {
  started = 0;
  disposed = 0;
  constructor(readonly id: number, private readonly failStart: boolean) {}
  start(): Promise<void> {
    this.started++;
    return this.failStart ? Promise.reject(new Error('spawn tether ENOENT')) : Promise.resolve();
  }
  dispose(): Promise<void> {
    this.disposed++;
    return Promise.resolve();
  }
}

function setup(opts: { failStart?: boolean; createThrows?: boolean } = {}) {
  const timers = new FakeTimers();
  const clients: FakeClient[] = [];
  const states: SupervisorState[] = [];
  const policy = new RestartPolicy({ initialDelayMs: 1000, multiplier: 2, maxDelayMs: 8000, maxCrashes: 4, windowMs: 60_000 }, () => timers.now);
  const sup = new Supervisor<FakeClient>(
    {
      create: () => {
        if (opts.createThrows) throw new Error('Could not find the tether executable');
        const c = new FakeClient(clients.length, opts.failStart ?? false);
        clients.push(c);
        return c;
      },
      onStateChange: (s) => states.push(s),
    },
    policy,
    timers,
  );
  return { sup, timers, clients, states };
}

function waitDelay(sup: Supervisor<FakeClient>): number | undefined {
  const state: SupervisorState = sup.state;
  return state.kind === 'waiting' ? state.delayMs : undefined;
}

describe('Supervisor', () => {
  it('starts a client and reports running', async () => {
    const { sup, clients, states } = setup();
    await sup.start();
    assert.equal(clients.length, 1);
    assert.equal(sup.state.kind, 'running');
    assert.equal(sup.runningClient, clients[0]);
    assert.deepEqual(states.map((s) => s.kind), ['starting', 'running']);
  });

  it('restarts a crashed server with exponential backoff using a fresh client', async () => {
    const { sup, timers, clients } = setup();
    await sup.start();
    const first = clients[0]!;
    sup.notifyExit(first, 'server exited with code 1');
    assert.deepEqual(sup.state, { kind: 'waiting', delayMs: 1000, attempt: 1, reason: 'server exited with code 1' });
    assert.equal(sup.runningClient, undefined);
    await timers.advance(999);
    assert.equal(clients.length, 1);
    await timers.advance(1);
    assert.equal(clients.length, 2);
    assert.equal(first.disposed, 1);
    assert.equal(sup.state.kind, 'running');

    sup.notifyExit(clients[1]!, 'crash');
    assert.equal(waitDelay(sup), 2000);
  });

  it('ignores duplicate and stale exit reports', async () => {
    const { sup, timers, clients } = setup();
    await sup.start();
    const first = clients[0]!;
    sup.notifyExit(first, 'closed');
    sup.notifyExit(first, 'closed again');
    assert.equal(timers.size, 1);
    await timers.advance(1000);
    sup.notifyExit(first, 'late report from the old client');
    assert.equal(sup.state.kind, 'running');
  });

  it('gives up after too many crashes in the window', async () => {
    const { sup, timers, clients } = setup({ failStart: true });
    await sup.start();
    // Each start fails immediately: delays 1s, 2s, 4s, then give up on the 4th crash.
    await timers.advance(1000);
    await timers.advance(2000);
    await timers.advance(4000);
    assert.equal(clients.length, 4);
    assert.equal(sup.state.kind, 'failed');
    if (sup.state.kind === 'failed') {
      assert.match(sup.state.message, /crashed 4 times/);
      assert.match(sup.state.reason, /ENOENT/);
    }
    await timers.advance(60_000);
    assert.equal(clients.length, 4, 'no restart after giving up');
    assert.ok(clients.every((c) => c.disposed === 1));
  });

  it('a manual restart after giving up starts again with a clean history', async () => {
    const { sup, timers, clients } = setup();
    await sup.start();
    for (let i = 0; i < 4; i++) {
      sup.notifyExit(clients[clients.length - 1]!, 'crash');
      await timers.advance(10_000);
    }
    assert.equal(sup.state.kind, 'failed');
    await sup.restart();
    assert.equal(sup.state.kind, 'running');
    sup.notifyExit(clients[clients.length - 1]!, 'crash');
    assert.equal(waitDelay(sup), 1000);
  });

  it('stop() cancels a pending restart', async () => {
    const { sup, timers, clients } = setup();
    await sup.start();
    sup.notifyExit(clients[0]!, 'crash');
    await sup.stop();
    await timers.advance(60_000);
    assert.equal(clients.length, 1);
    assert.equal(sup.state.kind, 'stopped');
  });

  it('configuration errors fail immediately without retrying', async () => {
    const { sup, timers } = setup({ createThrows: true });
    await sup.start();
    assert.equal(sup.state.kind, 'failed');
    assert.equal(timers.size, 0);
  });
});
