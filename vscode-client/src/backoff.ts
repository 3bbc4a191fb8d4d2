/**
 * Restart policy for a crashing language server: exponential backoff with a cap, and giving up
 * after too many crashes within a sliding time window.
 *
 * Pure module (no `vscode` import); the clock is injected for testing.
 */

export interface BackoffOptions {
  /** Delay before the first restart. */
  initialDelayMs: number;
  /** Upper bound for any delay. */
  maxDelayMs: number;
  /** Growth factor between consecutive delays. */
  multiplier: number;
  /** Give up when this many crashes happened within `windowMs`. */
  maxCrashes: number;
  /** Length of the sliding window in which crashes are counted. */
  windowMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  multiplier: 2,
  maxCrashes: 5,
  windowMs: 3 * 60_000,
});

export type CrashDecision =
  | { action: 'restart'; delayMs: number; attempt: number; crashesInWindow: number }
  | { action: 'giveUp'; crashesInWindow: number; message: string };

/** Delay for the n-th consecutive restart (n >= 1), capped. */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = opts.initialDelayMs * Math.pow(opts.multiplier, n - 1);
  return Math.min(opts.maxDelayMs, Math.max(0, Math.round(raw)));
}

export function validateBackoff(opts: BackoffOptions): void {
  if (!(opts.initialDelayMs >= 0)) throw new RangeError('initialDelayMs must be >= 0');
  if (!(opts.maxDelayMs >= opts.initialDelayMs)) throw new RangeError('maxDelayMs must be >= initialDelayMs');
  if (!(opts.multiplier >= 1)) throw new RangeError('multiplier must be >= 1');
  if (!(opts.maxCrashes >= 1) || !Number.isInteger(opts.maxCrashes)) throw new RangeError('maxCrashes must be a positive integer');
  if (!(opts.windowMs > 0)) throw new RangeError('windowMs must be > 0');
}

function formatWindow(ms: number): string {
  if (ms % 60_000 === 0) {
    const m = ms / 60_000;
    return m === 1 ? '1 minute' : `${m} minutes`;
  }
  return `${Math.round(ms / 1000)} seconds`;
}

export class RestartPolicy {
  private crashes: number[] = [];
  private readonly opts: BackoffOptions;

  constructor(
    opts: Partial<BackoffOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_BACKOFF, ...opts };
    validateBackoff(this.opts);
  }

  get options(): Readonly<BackoffOptions> {
    return this.opts;
  }

  /** Crashes currently inside the window. */
  crashCount(): number {
    this.prune();
    return this.crashes.length;
  }

  /**
   * Records a crash and decides what to do. The delay grows with the number of crashes in the
   * window, so a server that has been stable for a while starts again from the initial delay.
   */
  recordCrash(): CrashDecision {
    this.crashes.push(this.now());
    this.prune();
    const n = this.crashes.length;
    if (n >= this.opts.maxCrashes) {
      return {
        action: 'giveUp',
        crashesInWindow: n,
        message: `The Tether server crashed ${n} times in the last ${formatWindow(this.opts.windowMs)}; it will not be restarted automatically.`,
      };
    }
    return { action: 'restart', delayMs: backoffDelay(n, this.opts), attempt: n, crashesInWindow: n };
  }

  /** Forget past crashes (e.g. after the user restarted the server by hand). */
  reset(): void {
    this.crashes = [];
  }

  private prune(): void {
    const cutoff = this.now() - this.opts.windowMs;
    this.crashes = this.crashes.filter((t) => t > cutoff);
  }
}
