/**
 * Keeps one language-client instance alive: starts it, notices when it dies, and restarts a fresh
 * instance according to a {@link RestartPolicy}. Independent of VS Code so it can be unit tested.
 */

import { RestartPolicy } from './backoff';

export interface ManagedClient {
  start(): Promise<void>;
  /** Stops the server (best effort) and releases the instance; it is never started again. */
  dispose(): Promise<void>;
}

export type SupervisorState =
  | { kind: 'stopped' }
  | { kind: 'starting'; attempt: number }
  | { kind: 'running' }
  | { kind: 'waiting'; delayMs: number; attempt: number; reason: string }
  | { kind: 'failed'; message: string; reason: string };

export interface SupervisorHooks<C extends ManagedClient> {
  /** Creates a new, not yet started, client. May throw (e.g. the server cannot be located). */
  create(): C;
  onStateChange?(state: SupervisorState): void;
  log?(message: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class Supervisor<C extends ManagedClient> {
  private current: C | undefined;
  private timer: unknown;
  private _state: SupervisorState = { kind: 'stopped' };
  private attempt = 0;
  /** Incremented by every user initiated start/stop, to drop stale async continuations. */
  private generation = 0;

  constructor(
    private readonly hooks: SupervisorHooks<C>,
    private readonly policy: RestartPolicy = new RestartPolicy(),
    private readonly timers: Timers = realTimers,
  ) {}

  get client(): C | undefined {
    return this.current;
  }

  get state(): SupervisorState {
    return this._state;
  }

  /** The running client, or undefined when it is not (yet) up. */
  get runningClient(): C | undefined {
    return this._state.kind === 'running' ? this.current : undefined;
  }

  /** User initiated start: forgets earlier crashes. No-op when already started. */
  async start(): Promise<void> {
    if (this.current !== undefined || this._state.kind === 'waiting') {
      return;
    }
    this.policy.reset();
    this.attempt = 0;
    await this.launch(this.generation);
  }

  /** User initiated stop: cancels a pending restart and stops the server. */
  async stop(): Promise<void> {
    this.generation++;
    this.cancelTimer();
    const c = this.current;
    this.current = undefined;
    this.setState({ kind: 'stopped' });
    if (c !== undefined) {
      await this.safeDispose(c);
    }
  }

  /** User initiated restart (also the way out of the `failed` state). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * Reports that `client` lost its server (process exit, fatal connection error, failed start).
   * Stale or duplicate reports (for a client that is no longer current) are ignored.
   */
  notifyExit(client: C, reason: string): void {
    if (client !== this.current) {
      return;
    }
    this.current = undefined;
    const gen = this.generation;
    const decision = this.policy.recordCrash();
    this.hooks.log?.(`Tether server stopped unexpectedly: ${reason}`);
    if (decision.action === 'giveUp') {
      // Release the dead instance once the client library has finished its own bookkeeping.
      this.timers.setTimeout(() => void this.safeDispose(client), 0);
      this.setState({ kind: 'failed', message: decision.message, reason });
      return;
    }
    this.attempt = decision.attempt;
    this.setState({ kind: 'waiting', delayMs: decision.delayMs, attempt: decision.attempt, reason });
    this.hooks.log?.(`Restarting in ${decision.delayMs} ms (attempt ${decision.attempt}).`);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void (async () => {
        await this.safeDispose(client);
        if (gen === this.generation) {
          await this.launch(gen);
        }
      })();
    }, decision.delayMs);
  }

  private async launch(gen: number): Promise<void> {
    let client: C;
    try {
      client = this.hooks.create();
    } catch (e) {
      // Configuration problems do not get better by retrying.
      const message = e instanceof Error ? e.message : String(e);
      this.setState({ kind: 'failed', message, reason: message });
      return;
    }
    this.current = client;
    this.setState({ kind: 'starting', attempt: this.attempt });
    try {
      await client.start();
    } catch (e) {
      if (gen === this.generation) {
        this.notifyExit(client, `failed to start: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    if (client === this.current && gen === this.generation) {
      this.setState({ kind: 'running' });
    }
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async safeDispose(client: C): Promise<void> {
    try {
      await client.dispose();
    } catch (e) {
      this.hooks.log?.(`Disposing the previous server instance failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private setState(state: SupervisorState): void {
    this._state = state;
    this.hooks.onStateChange?.(state);
  }
}
