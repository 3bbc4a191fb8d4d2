/**
 * End-to-end smoke test of the bundled extension (dist/extension.js) against a fake Tether server,
 * with an in-memory `vscode` module. Covers: server launch from settings, initializationOptions,
 * workspace/configuration, didChangeConfiguration, inline completion, $/progress in the status
 * bar, tether.status / tether.reindex, crash restart with backoff, and shutdown.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mock from './helpers/vscodeMock';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'dist', 'extension.js');
const fakeServer = join(__dirname, 'fixtures', 'fakeServer.js');
const logFile = join(tmpdir(), `tether-fake-server-${process.pid}.jsonl`);

interface Received {
  pid: number;
  method: string | null;
  id: number | string | null;
  params: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  result: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function received(): Received[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Received);
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}\nstatus bar: ${statusText()}\nlog:\n${mock.recorded.logs.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function statusText(): string {
  return mock.recorded.statusItems[0]?.text ?? '<no status item>';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface ExtensionModule {
  activate(context: unknown): void;
  deactivate(): Promise<void>;
}

const memento = (): unknown => {
  const m = new Map<string, unknown>();
  return { get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d), update: (k: string, v: unknown) => Promise.resolve(void m.set(k, v)), keys: () => [...m.keys()] };
};

describe('extension smoke test (fake server, mocked vscode)', { skip: !existsSync(bundle) && 'dist/extension.js not built' }, () => {
  let ext: ExtensionModule;
  const originalLoad = (Module as unknown as { _load: (...args: unknown[]) => unknown })._load;

  before(() => {
    rmSync(logFile, { force: true });
    process.env['TETHER_FAKE_LOG'] = logFile;
    (Module as unknown as { _load: (...args: unknown[]) => unknown })._load = function (request: unknown, ...rest: unknown[]) {
      return request === 'vscode' ? mock : originalLoad.call(this, request, ...rest);
    };
    mock.settings.set('tether.server.command', [process.execPath, fakeServer]);
    mock.settings.set('tether.mode', 'rag');
    mock.settings.set('tether.maxTokens', 32);
    mock.settings.set('tether.docFolders', ['${workspaceFolder}/docs']);
    mock.settings.set('tether.modelPath', 'gemma-3-270m-Q4_K_M.gguf');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ext = require(bundle) as ExtensionModule;
    ext.activate({ subscriptions: [], globalState: memento(), workspaceState: memento(), extensionPath: root });
  });

  after(() => {
    if (process.env['SMOKE_VERBOSE']) console.log(mock.recorded.logs.join('\n'));
    (Module as unknown as { _load: unknown })._load = originalLoad;
    rmSync(logFile, { force: true });
  });

  it('starts the server with the settings the user set as initializationOptions', async () => {
    const init = await waitFor('initialize', () => received().find((m) => m.method === 'initialize'));
    assert.deepEqual(init.params.initializationOptions, {
      modelPath: 'gemma-3-270m-Q4_K_M.gguf',
      mode: 'rag',
      maxTokens: 32,
      docFolders: [`${mock.workspaceFolderPath}/docs`],
    });
    assert.equal(init.params.capabilities.textDocument.inlineCompletion?.dynamicRegistration, true);
    assert.equal(init.params.capabilities.window.workDoneProgress, true);
  });

  it('answers workspace/configuration with the normalized options', async () => {
    const reply = await waitFor('configuration reply', () =>
      received().find((m) => typeof m.id === 'string' && m.id.startsWith('config-') && m.method === null),
    );
    assert.equal(reply.result[0].mode, 'rag');
    assert.equal(reply.result[0].maxTokens, 32);
    assert.equal(reply.result[1], 32);
  });

  it('shows indexing progress, then model and latency in the status bar', async () => {
    await waitFor('indexing progress', () => statusText().includes('Indexing 50%'));
    assert.match(String(mock.recorded.statusItems[0]?.tooltip), /60\/120 files/);
    await mock.commands.executeCommand('tether.reindexWorkspace');
    assert.ok(received().some((m) => m.method === 'workspace/executeCommand' && m.params.command === 'tether.reindex'));
    await waitFor('model name', () => statusText().includes('fake-model-Q4_K_M'));
    assert.match(statusText(), /^\$\(zap\) Tether · fake-model-Q4_K_M · 13 ms$/);
  });

  it('provides inline completions through LSP 3.18 textDocument/inlineCompletion', async () => {
    const providers = await waitFor('inline provider', () => mock.recorded.providers.get('registerInlineCompletionItemProvider'));
    assert.equal(providers.length, 1);
    const provider = providers[0] as {
      provideInlineCompletionItems(...args: unknown[]): Promise<{ insertText: string }[] | { items: { insertText: string }[] }>;
    };
    const uri = mock.Uri.file(join(mock.workspaceFolderPath, 'a.py'));
    const doc = { uri, languageId: 'python', version: 1, lineCount: 2, getText: () => 'def f():\n    ', isClosed: false, isDirty: false, isUntitled: false, fileName: uri.fsPath };
    const token = new mock.CancellationTokenSource().token;
    const result = await provider.provideInlineCompletionItems(doc, new mock.Position(1, 4), { triggerKind: 1, selectedCompletionInfo: undefined }, token);
    const items = Array.isArray(result) ? result : result.items;
    assert.equal(items[0]?.insertText, 'return 42');
    const request = received().find((m) => m.method === 'textDocument/inlineCompletion');
    assert.deepEqual(request?.params.position, { line: 1, character: 4 });
    await waitFor('client-measured latency', () => !statusText().endsWith('· 13 ms'));
    assert.match(statusText(), /· \d+ ms$/);
  });

  it('pushes changed settings with workspace/didChangeConfiguration', async () => {
    mock.updateSettings({ 'tether.mode': 'plain', 'tether.excludes': ['**/gen/**'] });
    const change = await waitFor('didChangeConfiguration', () =>
      received().find((m) => m.method === 'workspace/didChangeConfiguration' && m.params.settings?.tether?.mode === 'plain'),
    );
    assert.deepEqual(change.params.settings.tether.excludes, ['**/gen/**']);
    assert.equal(change.params.settings.tether.maxTokens, 32);

    await mock.commands.executeCommand('tether.toggleGroundedMode');
    await waitFor('grounded', () =>
      received().find((m) => m.method === 'workspace/didChangeConfiguration' && m.params.settings?.tether?.mode === 'grounded'),
    );
    await mock.commands.executeCommand('tether.toggleGroundedMode');
    assert.equal(mock.settings.get('tether.mode'), 'plain', 'toggling twice returns to the previous mode');
  });

  it('shows the server status', async () => {
    await mock.commands.executeCommand('tether.showStatus');
    const labels = (mock.recorded.quickPicks.at(-1) ?? []).map((i) => (i as { label: string }).label);
    assert.ok(labels.includes('Model: fake-model-Q4_K_M.gguf'), labels.join(' | '));
    assert.ok(labels.includes('Index: 3 files, 30 symbols, 9 chunks'));
    assert.ok(labels.includes('$(sync) Reindex Workspace'));
  });

  it('restarts a crashed server', async () => {
    const firstPid = received().find((m) => m.method === 'initialize')!.pid;
    process.kill(firstPid, 'SIGKILL');
    await waitFor('restarting state', () => statusText().startsWith('$(debug-restart)') || statusText().startsWith('$(loading'));
    const second = await waitFor('second initialize', () => received().find((m) => m.method === 'initialize' && m.pid !== firstPid), 15_000);
    assert.equal(second.params.initializationOptions.mode, 'plain', 'restart uses the current settings');
    await waitFor('running again', () => statusText().startsWith('$(sync~spin) Indexing') || statusText().startsWith('$(zap)'));
    assert.ok(mock.recorded.logs.some((l) => /Restarting in 1000 ms/.test(l)), 'backoff delay logged');
  });

  it('shuts the server down on deactivate', async () => {
    const pids = [...new Set(received().filter((m) => m.method === 'initialize').map((m) => m.pid))];
    const last = pids.at(-1)!;
    await ext.deactivate();
    assert.ok(received().some((m) => m.method === 'shutdown' && m.pid === last));
    await waitFor('server exit', () => !isAlive(last), 5_000);
    assert.deepEqual(mock.recorded.messages.filter((m) => m.level === 'error'), []);
  });
});
