/**
 * VS Code entry point: settings, commands, status bar, and the supervised language client.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CancellationTokenSource,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
} from 'vscode-languageclient/node';
import { RestartPolicy } from './backoff';
import { TetherClient, type ClientHost } from './client';
import {
  isResolveError,
  resolveServerCommand,
  which,
} from './serverCommand';
import {
  configChangeAction,
  DEFAULT_OPTIONS,
  didChangeConfigurationParams,
  expandVariables,
  isMode,
  toggledMode,
  toInitializationOptions,
  userValue,
  type ExpandContext,
  type InitializationOptions,
  type Mode,
} from './settings';
import {
  formatStatusBar,
  parseStatus,
  ProgressTracker,
  pushError,
  statusReport,
  type ServerPhase,
  type StatusBarState,
  type TetherStatus,
  type WorkDoneValue,
} from './status';
import { Supervisor, type SupervisorState } from './supervisor';

/** Server-side commands (workspace/executeCommand). */
const SERVER_REINDEX = 'tether.reindex';
const SERVER_STATUS = 'tether.status';

/** Client-side VS Code commands (distinct ids: the client library registers the server's). */
const CMD = {
  reindex: 'tether.reindexWorkspace',
  showStatus: 'tether.showStatus',
  toggleGrounded: 'tether.toggleGroundedMode',
  showLogs: 'tether.showLogs',
  restart: 'tether.restartServer',
} as const;

const PREVIOUS_MODE_KEY = 'tether.previousMode';
const STATUS_TIMEOUT_MS = 5_000;
const STATUS_POLL_MS = 30_000;

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class TetherExtension implements ClientHost, vscode.Disposable {
  readonly output: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly supervisor: Supervisor<TetherClient>;
  private readonly progress = new ProgressTracker();
  private readonly disposables: vscode.Disposable[] = [];
  private serverStatus: TetherStatus | undefined;
  private lastLatencyMs: number | undefined;
  private phase: ServerPhase = 'stopped';
  private failure: string | undefined;
  private restartInMs: number | undefined;
  private clientErrors: string[] = [];
  private configWarnings: string[] = [];
  private shownWarnings = new Set<string>();
  private statusInFlight = false;
  private pollTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Tether', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('tether.status', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'Tether';
    this.statusItem.command = CMD.showStatus;
    this.supervisor = new Supervisor<TetherClient>(
      {
        create: () => this.createClient(),
        onStateChange: (state) => this.onSupervisorState(state),
        log: (message) => this.output.info(message),
      },
      new RestartPolicy(),
    );
    this.disposables.push(
      this.output,
      this.statusItem,
      vscode.commands.registerCommand(CMD.reindex, () => this.reindex()),
      vscode.commands.registerCommand(CMD.showStatus, () => this.showStatus()),
      vscode.commands.registerCommand(CMD.toggleGrounded, () => this.toggleGrounded()),
      vscode.commands.registerCommand(CMD.showLogs, () => this.output.show(true)),
      vscode.commands.registerCommand(CMD.restart, () => this.restart()),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
    );
    this.updateStatusBar();
    this.statusItem.show();
  }

  async start(): Promise<void> {
    await this.supervisor.start();
  }

  async dispose(): Promise<void> {
    this.stopPolling();
    await this.supervisor.stop();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  // ---- settings -------------------------------------------------------------------------------

  private expandContext(folder: vscode.WorkspaceFolder | undefined): ExpandContext {
    return { workspaceFolder: folder?.uri.fsPath, homeDir: os.homedir(), env: process.env };
  }

  optionsFor(scopeUri?: string): InitializationOptions {
    let folder = vscode.workspace.workspaceFolders?.[0];
    let scope: vscode.Uri | undefined = folder?.uri;
    if (scopeUri !== undefined) {
      try {
        scope = vscode.Uri.parse(scopeUri);
        folder = vscode.workspace.getWorkspaceFolder(scope) ?? folder;
      } catch {
        // fall back to the first workspace folder
      }
    }
    const config = vscode.workspace.getConfiguration('tether', scope);
    const { options, warnings } = toInitializationOptions(
      { inspect: (key) => config.inspect<unknown>(key) },
      this.expandContext(folder),
    );
    this.reportConfigWarnings(warnings);
    return options;
  }

  private reportConfigWarnings(warnings: string[]): void {
    this.configWarnings = warnings;
    for (const w of warnings) {
      if (!this.shownWarnings.has(w)) {
        this.shownWarnings.add(w);
        this.output.warn(w);
        void vscode.window.showWarningMessage(`Tether: ${w}`);
      }
    }
  }

  private onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    const action = configChangeAction((section) => e.affectsConfiguration(section));
    if (action === 'restart') {
      this.output.info('Server launch settings changed; restarting the Tether server.');
      void this.restart();
      return;
    }
    if (action === 'notify') {
      const options = this.optionsFor();
      this.updateStatusBar();
      const client = this.supervisor.runningClient;
      if (client) {
        client.languageClient
          .sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(options))
          .then(
            () => setTimeout(() => void this.refreshStatus(), 1_000),
            (err: unknown) => this.output.error(`Sending the new settings failed: ${errorMessage(err)}`),
          );
      }
    }
  }

  // ---- client lifecycle -----------------------------------------------------------------------

  private createClient(): TetherClient {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration('tether', folder?.uri);
    const ctx = this.expandContext(folder);
    const resolved = resolveServerCommand(
      { command: config.get<unknown>('server.command'), pythonPath: config.get<unknown>('server.pythonPath') },
      {
        expand: (s) => expandVariables(s, ctx),
        which: (name) => which(name, { env: process.env, platform: process.platform, isExecutable: isExecutableFile }),
      },
    );
    if (isResolveError(resolved)) {
      throw new Error(resolved.error);
    }
    return new TetherClient(this, resolved, folder?.uri.fsPath);
  }

  onClientExit(client: TetherClient, reason: string): string {
    this.supervisor.notifyExit(client, reason);
    const state = this.supervisor.state;
    return state.kind === 'waiting'
      ? `Connection to the Tether server closed (${reason}); restarting in ${state.delayMs} ms.`
      : state.kind === 'failed'
        ? `Connection to the Tether server closed (${reason}). ${state.message}`
        : `Connection to the Tether server closed (${reason}).`;
  }

  private async restart(): Promise<void> {
    this.clientErrors = [];
    await this.supervisor.restart();
  }

  private onSupervisorState(state: SupervisorState): void {
    this.restartInMs = undefined;
    switch (state.kind) {
      case 'stopped':
        this.phase = 'stopped';
        this.resetServerView();
        this.stopPolling();
        break;
      case 'starting':
        this.phase = state.attempt > 0 ? 'restarting' : 'starting';
        this.resetServerView();
        break;
      case 'running':
        this.phase = 'running';
        this.failure = undefined;
        this.clientErrors = [];
        this.startPolling();
        void this.refreshStatus();
        break;
      case 'waiting':
        this.phase = 'restarting';
        this.restartInMs = state.delayMs;
        this.failure = state.reason;
        this.clientErrors = pushError(this.clientErrors, `Server stopped: ${state.reason}`);
        this.resetServerView();
        this.stopPolling();
        break;
      case 'failed':
        this.phase = 'failed';
        this.failure = state.message;
        this.clientErrors = pushError(this.clientErrors, state.message);
        this.resetServerView();
        this.stopPolling();
        this.output.error(`${state.message} (${state.reason})`);
        void vscode.window
          .showErrorMessage(`Tether: ${state.message}`, 'Restart Server', 'Show Logs', 'Open Settings')
          .then((choice) => {
            if (choice === 'Restart Server') void this.restart();
            else if (choice === 'Show Logs') this.output.show(true);
            else if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'tether.server');
          });
        break;
    }
    this.updateStatusBar();
  }

  private resetServerView(): void {
    this.progress.clear();
  }

  // ---- progress, latency, status --------------------------------------------------------------

  onProgress(token: string | number, value: WorkDoneValue): void {
    const finished = this.progress.update(token, value);
    this.updateStatusBar();
    if (finished) {
      void this.refreshStatus();
    }
  }

  onCompletionLatency(ms: number): void {
    this.lastLatencyMs = ms;
    this.updateStatusBar();
  }

  private startPolling(): void {
    this.stopPolling();
    this.pollTimer = setInterval(() => void this.refreshStatus(), STATUS_POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private async fetchStatus(): Promise<TetherStatus> {
    const client = this.supervisor.runningClient;
    if (!client) {
      throw new Error('the Tether server is not running');
    }
    const cts = new CancellationTokenSource();
    const timer = setTimeout(() => cts.cancel(), STATUS_TIMEOUT_MS);
    try {
      const raw: unknown = await client.languageClient.sendRequest(
        ExecuteCommandRequest.type,
        { command: SERVER_STATUS, arguments: [] },
        cts.token,
      );
      return parseStatus(raw);
    } finally {
      clearTimeout(timer);
      cts.dispose();
    }
  }

  private async refreshStatus(): Promise<void> {
    if (this.statusInFlight || !this.supervisor.runningClient) return;
    this.statusInFlight = true;
    try {
      this.serverStatus = await this.fetchStatus();
    } catch (e) {
      this.output.debug(`tether.status failed: ${errorMessage(e)}`);
    } finally {
      this.statusInFlight = false;
      this.updateStatusBar();
    }
  }

  private currentMode(): Mode | undefined {
    const configured = userValue(vscode.workspace.getConfiguration('tether').inspect<unknown>('mode'));
    return isMode(configured) ? configured : this.serverStatus?.mode;
  }

  private updateStatusBar(): void {
    const status = this.serverStatus;
    const enabled = vscode.workspace.getConfiguration('tether').get<boolean>('enable', true);
    const serverLatency = status?.lastLatenciesMs[status.lastLatenciesMs.length - 1];
    const errors = [...this.configWarnings, ...this.clientErrors, ...(this.phase === 'running' ? (status?.errors ?? []) : [])];
    const state: StatusBarState = { phase: this.phase, enabled: enabled !== false, errors };
    const mode = this.currentMode();
    if (mode !== undefined) state.mode = mode;
    if (status?.model !== undefined) state.model = status.model;
    const progress = this.progress.current();
    if (progress !== undefined) state.progress = progress;
    const latency = this.lastLatencyMs ?? serverLatency;
    if (latency !== undefined) state.lastLatencyMs = latency;
    if (this.restartInMs !== undefined) state.restartInMs = this.restartInMs;
    if (this.failure !== undefined) state.failure = this.failure;

    const view = formatStatusBar(state);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  // ---- commands -------------------------------------------------------------------------------

  private async reindex(): Promise<void> {
    const client = this.supervisor.runningClient;
    if (!client) {
      void vscode.window.showWarningMessage('Tether: the server is not running.', 'Show Logs').then((c) => {
        if (c) this.output.show(true);
      });
      return;
    }
    try {
      await client.languageClient.sendRequest(ExecuteCommandRequest.type, { command: SERVER_REINDEX, arguments: [] });
      this.output.info('Reindex requested.');
      vscode.window.setStatusBarMessage('$(sync) Tether: reindexing workspace…', 3_000);
    } catch (e) {
      this.output.error(`Reindex failed: ${errorMessage(e)}`);
      void vscode.window.showErrorMessage(`Tether: reindex failed: ${errorMessage(e)}`);
    }
  }

  private async showStatus(): Promise<void> {
    type Item = vscode.QuickPickItem & { run?: () => unknown };
    const items: Item[] = [];
    if (this.supervisor.runningClient) {
      try {
        const status = await this.fetchStatus();
        this.serverStatus = status;
        this.updateStatusBar();
        this.output.info(`tether.status: ${JSON.stringify(status.raw)}`);
        for (const line of statusReport(status)) {
          items.push(line.detail !== undefined ? { label: line.label, detail: line.detail } : { label: line.label });
        }
      } catch (e) {
        items.push({ label: `$(error) Could not get the server status: ${errorMessage(e)}` });
      }
    } else {
      const what = this.phase === 'failed' || this.phase === 'restarting' ? (this.failure ?? 'unknown error') : this.phase;
      items.push({ label: `Server: ${this.phase}`, detail: what });
    }
    for (const e of [...this.configWarnings, ...this.clientErrors]) {
      items.push({ label: `$(warning) ${e}` });
    }
    const mode = this.currentMode();
    items.push(
      { label: 'Actions', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(sync) Reindex Workspace', run: () => this.reindex() },
      {
        label: '$(symbol-namespace) Toggle Grounded Mode',
        ...(mode !== undefined ? { description: `now: ${mode}` } : {}),
        run: () => this.toggleGrounded(),
      },
      { label: '$(output) Show Logs', run: () => this.output.show(true) },
      { label: '$(debug-restart) Restart Server', run: () => this.restart() },
    );
    const picked = await vscode.window.showQuickPick(items, { title: 'Tether Status', placeHolder: 'Tether status' });
    await picked?.run?.();
  }

  private async toggleGrounded(): Promise<void> {
    const config = vscode.workspace.getConfiguration('tether');
    const current = this.currentMode() ?? DEFAULT_OPTIONS.mode;
    const previous = this.context.globalState.get<unknown>(PREVIOUS_MODE_KEY);
    const next = toggledMode(current, isMode(previous) ? previous : undefined);
    if (current !== 'grounded') {
      await this.context.globalState.update(PREVIOUS_MODE_KEY, current);
    }
    const inspected = config.inspect<string>('mode');
    const target =
      inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    try {
      await config.update('mode', next, target);
      vscode.window.setStatusBarMessage(`Tether: mode set to ${next}`, 3_000);
    } catch (e) {
      void vscode.window.showErrorMessage(`Tether: could not change the mode: ${errorMessage(e)}`);
    }
  }
}

let extension: TetherExtension | undefined;

export function activate(context: vscode.ExtensionContext): void {
  extension = new TetherExtension(context);
  void extension.start();
}

export async function deactivate(): Promise<void> {
  const ext = extension;
  extension = undefined;
  await ext?.dispose();
}
