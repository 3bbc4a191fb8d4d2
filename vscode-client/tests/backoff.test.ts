import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF, RestartPolicy } from '../src/backoff';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('backoffDelay', () => {
  it('grows exponentially and is capped', () => {
    const opts = { ...DEFAULT_BACKOFF, initialDelayMs: 500, multiplier: 3, maxDelayMs: 10_000 };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts)), [500, 1500, 4500, 10_000, 10_000]);
    assert.equal(backoffDelay(0, opts), 500);
    assert.equal(backoffDelay(1000, opts), 10_000);
  });
});

describe('RestartPolicy', () => {
  it('restarts with increasing delays, then gives up after N crashes in the window', () => {
    const c = clock();
    const p = new RestartPolicy({ initialDelayMs: 1000, multiplier: 2, maxDelayMs: 5000, maxCrashes: 5, windowMs: 60_000 }, c.now);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = p.recordCrash();
      assert.equal(d.action, 'restart');
      if (d.action === 'restart') delays.push(d.delayMs);
      c.advance(1000);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 5000]);
    const last = p.recordCrash();
    assert.equal(last.action, 'giveUp');
    if (last.action === 'giveUp') {
      assert.equal(last.crashesInWindow, 5);
      assert.match(last.message, /crashed 5 times in the last 1 minute/);
    }
  });

  it('forgets crashes that left the window, so delays start over', () => {
    const c = clock();
    const p = new RestartPolicy({ initialDelayMs: 1000, maxCrashes: 3, windowMs: 10_000 }, c.now);
    p.recordCrash();
    c.advance(1000);
    p.recordCrash();
    c.advance(20_000);
    assert.equal(p.crashCount(), 0);
    const d = p.recordCrash();
    assert.deepEqual(d, { action: 'restart', delayMs: 1000, attempt: 1, crashesInWindow: 1 });
  });

  it('sliding window: crashes spread out never give up', () => {
    const c = clock();
    const p = new RestartPolicy({ maxCrashes: 3, windowMs: 10_000 }, c.now);
    for (let i = 0; i < 20; i++) {
      assert.equal(p.recordCrash().action, 'restart');
      c.advance(6_000);
    }
  });

  it('reset() clears the history', () => {
    const c = clock();
    const p = new RestartPolicy({ maxCrashes: 2 }, c.now);
    p.recordCrash();
    p.reset();
    assert.equal(p.recordCrash().action, 'restart');
    assert.equal(p.recordCrash().action, 'giveUp');
  });

  it('validates its options', () => {
    assert.throws(() => new RestartPolicy({ maxCrashes: 0 }), RangeError);
    assert.throws(() => new RestartPolicy({ multiplier: 0.5 }), RangeError);
    assert.throws(() => new RestartPolicy({ initialDelayMs: 10, maxDelayMs: 5 }), RangeError);
  });
});
