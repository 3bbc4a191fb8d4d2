/**
 * One Tether language-client instance: spawns the server process over stdio and wires the
 * middleware the extension needs (progress, latency, configuration). Restarts are handled by the
 * {@link Supervisor}, which creates a fresh instance each time.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { formatCommandLine, type ResolvedCommand } from './serverCommand';
import { stderrLineLevel, type LogLevelName } from './serverLog';
import type { InitializationOptions } from './settings';
import type { ManagedClient } from './supervisor';
import type { WorkDoneValue } from './status';

export const CLIENT_ID = 'tether';
export const CLIENT_NAME = 'Tether';

export const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'python' },
  { scheme: 'untitled', language: 'python' },
];

/** Connection errors tolerated before the connection is considered broken. */
const MAX_CONNECTION_ERRORS = 3;

export interface ClientHost {
  readonly output: vscode.LogOutputChannel;
  /** Current options for the given resource scope (undefined = the workspace). */
  optionsFor(scopeUri?: string): InitializationOptions;
  /**
   * The server connection of `client` is gone for good. Returns a sentence saying what happens
   * next (restart or not), for the log.
   */
  onClientExit(client: TetherClient, reason: string): string;
  onProgress(token: string | number, value: WorkDoneValue): void;
  onCompletionLatency(ms: number): void;
}

function toWorkDoneValue(
  params: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd,
): WorkDoneValue {
  return params;
}

function forwardLines(input: Readable, write: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', write);
}

function processExited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

function waitForExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (processExited(p)) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      p.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    p.once('exit', onExit);
  });
}

export class TetherClient implements ManagedClient {
  readonly languageClient: LanguageClient;
  private process: ChildProcess | undefined;
  private lastExit: string | undefined;

  constructor(
    private readonly host: ClientHost,
    readonly command: ResolvedCommand,
    private readonly cwd: string | undefined,
  ) {
    const serverOptions: ServerOptions = () => this.spawnServer();
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: host.output,
      traceOutputChannel: host.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: (input, channel) => forwardLines(input, (line) => channel.info(line)),
        stderr: (input, channel) => {
          let previous: LogLevelName | undefined;
          forwardLines(input, (line) => {
            previous = stderrLineLevel(line, previous);
            channel[previous](line);
          });
        },
      },
      initializationOptions: () => host.optionsFor(),
      initializationFailedHandler: (error) => {
        host.output.error(`Tether server failed to initialize: ${String(error)}`);
        return false; // the supervisor decides about retries
      },
      errorHandler: {
        error: (error, _message, count): ErrorHandlerResult => {
          host.output.error(`Connection to the Tether server failed: ${error.message}`);
          if ((count ?? 0) <= MAX_CONNECTION_ERRORS) {
            return { action: ErrorAction.Continue, handled: true };
          }
          host.onClientExit(this, `connection errors: ${error.message}`);
          return { action: ErrorAction.Shutdown, handled: true };
        },
        closed: async (): Promise<CloseHandlerResult> => {
          // The pipe usually closes just before the process reports its exit status.
          if (this.process) await waitForExit(this.process, 500);
          const message = host.onClientExit(this, this.describeExit());
          return { action: CloseAction.DoNotRestart, handled: true, message };
        },
      },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          host.onProgress(token, toWorkDoneValue(params));
          next(token, params);
        },
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const started = performance.now();
          const result = await next(document, position, context, token);
          if (!token.isCancellationRequested) {
            host.onCompletionLatency(performance.now() - started);
          }
          return result;
        },
        workspace: {
          configuration: async (params, token, next) => {
            const defaults: unknown = await next(params, token);
            if (!Array.isArray(defaults)) {
              return defaults as never; // a ResponseError: pass it through unchanged
            }
            return params.items.map((item, i): unknown => {
              const section = item.section;
              if (section === 'tether') {
                return host.optionsFor(item.scopeUri);
              }
              if (section?.startsWith('tether.')) {
                const key = section.slice('tether.'.length);
                const options = host.optionsFor(item.scopeUri) as unknown as Record<string, unknown>;
                if (key in options) {
                  return options[key];
                }
              }
              return defaults[i] as unknown;
            });
          },
        },
      },
    };
    this.languageClient = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
  }

  start(): Promise<void> {
    return this.languageClient.start();
  }

  async dispose(): Promise<void> {
    try {
      if (this.languageClient.isRunning()) {
        await this.languageClient.stop(2000);
      }
    } catch (e) {
      this.host.output.warn(`Stopping the Tether server failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      await this.languageClient.dispose();
    } catch {
      // Not running (e.g. it failed to start): nothing left for the library to stop.
    }
    await this.ensureProcessGone();
  }

  private spawnServer(): Promise<ChildProcess> {
    const { command, args } = this.command;
    this.host.output.info(`Starting Tether server: ${formatCommandLine(this.command)}${this.cwd ? ` (cwd ${this.cwd})` : ''}`);
    return new Promise((resolve, reject) => {
      let proc: ChildProcess;
      try {
        proc = spawn(command, args, {
          cwd: this.cwd,
          env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
          stdio: 'pipe',
          windowsHide: true,
        });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      this.process = proc;
      proc.on('error', (err: NodeJS.ErrnoException) => {
        const msg =
          err.code === 'ENOENT'
            ? `cannot run "${command}": file not found`
            : err.code === 'EACCES'
              ? `cannot run "${command}": permission denied`
              : `cannot run "${command}": ${err.message}`;
        this.lastExit = msg;
        this.host.output.error(msg);
        reject(new Error(msg));
      });
      proc.once('spawn', () => resolve(proc));
      proc.once('exit', (code, signal) => {
        this.lastExit = signal !== null ? `server killed by ${signal}` : `server exited with code ${String(code)}`;
        if (code === 0) {
          this.host.output.info(`Tether ${this.lastExit}.`);
        } else {
          this.host.output.warn(`Tether ${this.lastExit}.`);
        }
      });
    });
  }

  private describeExit(): string {
    const p = this.process;
    if (p && processExited(p)) {
      return p.signalCode !== null ? `server killed by ${p.signalCode}` : `server exited with code ${String(p.exitCode)}`;
    }
    return this.lastExit ?? 'connection to the server was closed';
  }

  /** Makes sure no server process outlives this client (e.g. one that hung while starting). */
  private async ensureProcessGone(): Promise<void> {
    const p = this.process;
    if (!p || processExited(p)) {
      return;
    }
    if (await waitForExit(p, 2000)) {
      return;
    }
    p.kill('SIGTERM');
    if (!(await waitForExit(p, 2000))) {
      p.kill('SIGKILL');
    }
  }
}
