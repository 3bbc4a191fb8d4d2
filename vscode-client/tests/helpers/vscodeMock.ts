/**
 * A minimal, in-memory stand-in for the `vscode` module: enough of the API for the bundled
 * extension and vscode-languageclient to activate, talk to a server and register providers.
 * Used only by the smoke test; it records what the extension does so the test can inspect it.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */
import * as path from 'node:path';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  constructor(private readonly fn: () => unknown = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>, thisArg?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => listener.call(thisArg, e);
    this.listeners.add(bound);
    const d = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static parse(value: string): Uri {
    const m = /^([a-z][a-z0-9+.-]*):(?:\/\/)?(.*)$/i.exec(value);
    if (!m) return new Uri('file', value);
    return new Uri(m[1]!, decodeURIComponent(m[2]!));
  }
  get fsPath(): string {
    return this.path;
  }
  get authority(): string {
    return '';
  }
  get query(): string {
    return '';
  }
  get fragment(): string {
    return '';
  }
  with(): Uri {
    return this;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path };
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: any, b: any, c?: number, d?: number) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c!, d!);
    } else {
      this.start = a;
      this.end = b;
    }
  }
}
export class Selection extends Range {}
export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Range,
  ) {}
}
export class InlineCompletionItem {
  constructor(
    public insertText: string | SnippetString,
    public range?: Range,
    public command?: unknown,
  ) {}
}
export class InlineCompletionList {
  constructor(public items: InlineCompletionItem[]) {}
}
export class SnippetString {
  constructor(public value = '') {}
}
export class CompletionItem {
  constructor(
    public label: unknown,
    public kind?: number,
  ) {}
}
export class CompletionList {
  constructor(
    public items: CompletionItem[] = [],
    public isIncomplete = false,
  ) {}
}
// Base classes the language client subclasses or instantiates; shapes do not matter here.
export class CallHierarchyItem {}
export class CodeAction {}
export class Diagnostic {}
export class CodeLens {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class TypeHierarchyItem {}
export class Hover {
  constructor(public contents: unknown, public range?: Range) {}
}
export class TextEdit {
  constructor(public range: Range, public newText: string) {}
}
export class WorkspaceEdit {}
export class RelativePattern {
  constructor(public base: unknown, public pattern: string) {}
}
export class MarkdownString {
  constructor(public value = '') {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class CancellationError extends Error {}
export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}
export class TabInputText {}
export class TabInputTextDiff {}
export class TabInputNotebook {}
export class TabInputCustom {}
export class TabInputNotebookDiff {}

export const StatusBarAlignment = { Left: 1, Right: 2 };
export const QuickPickItemKind = { Separator: -1, Default: 0 };
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
export const LogLevel = { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 };
export const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 };
export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };

/** Enum-like namespaces whose exact values do not matter for the smoke test. */
function anyEnum(name: string): Record<string, string> {
  return new Proxy({}, { get: (_t, prop) => `${name}.${String(prop)}` });
}
export const CodeActionKind = anyEnum('CodeActionKind');
export const CodeActionTriggerKind = anyEnum('CodeActionTriggerKind');
export const CompletionItemKind = anyEnum('CompletionItemKind');
export const CompletionItemTag = anyEnum('CompletionItemTag');
export const CompletionTriggerKind = anyEnum('CompletionTriggerKind');
export const DiagnosticTag = anyEnum('DiagnosticTag');
export const DocumentHighlightKind = anyEnum('DocumentHighlightKind');
export const FileType = anyEnum('FileType');
export const FoldingRangeKind = anyEnum('FoldingRangeKind');
export const NotebookCellKind = anyEnum('NotebookCellKind');
export const SignatureHelpTriggerKind = anyEnum('SignatureHelpTriggerKind');
export const SymbolKind = anyEnum('SymbolKind');
export const SymbolTag = anyEnum('SymbolTag');
export const TextDocumentSaveReason = anyEnum('TextDocumentSaveReason');
export const EndOfLine = { LF: 1, CRLF: 2 };

export const version = '1.95.0';

// ---- recording state -----------------------------------------------------------------------

export interface StatusItem {
  text: string;
  tooltip: unknown;
  command: unknown;
  backgroundColor: ThemeColor | undefined;
  name?: string;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export const recorded = {
  logs: [] as string[],
  messages: [] as { level: string; text: string }[],
  statusItems: [] as StatusItem[],
  providers: new Map<string, unknown[]>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  quickPicks: [] as unknown[][],
};

export const settings = new Map<string, unknown>();
const configEmitter = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

/** Changes settings and fires onDidChangeConfiguration like VS Code does. */
export function updateSettings(values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values)) settings.set(k, v);
  const keys = Object.keys(values);
  configEmitter.fire({
    affectsConfiguration: (section) => keys.some((k) => k === section || k.startsWith(`${section}.`)),
  });
}

function configuration(section?: string): any {
  const prefix = section ? `${section}.` : '';
  const get = (key: string, dflt?: unknown): unknown => {
    const full = prefix + key;
    if (settings.has(full)) return settings.get(full);
    // Nested object read (e.g. getConfiguration('tether').get('server')).
    const nested: Record<string, unknown> = {};
    let found = false;
    for (const [k, v] of settings) {
      if (k.startsWith(`${full}.`)) {
        nested[k.slice(full.length + 1)] = v;
        found = true;
      }
    }
    return found ? nested : dflt;
  };
  return {
    get,
    has: (key: string) => get(key) !== undefined,
    inspect: (key: string) => ({ key: prefix + key, globalValue: settings.get(prefix + key) }),
    update: (key: string, value: unknown) => {
      updateSettings({ [prefix + key]: value });
      return Promise.resolve();
    },
  };
}

const noopEvent = (): Disposable => new Disposable();

function logChannel(name: string): any {
  const write = (level: string) => (msg: unknown, ...rest: unknown[]) => {
    recorded.logs.push(`[${name}] ${level} ${String(msg)}${rest.length ? ` ${rest.map(String).join(' ')}` : ''}`);
  };
  return {
    name,
    logLevel: LogLevel.Info,
    onDidChangeLogLevel: noopEvent,
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    append: write('append'),
    appendLine: write('line'),
    replace: write('replace'),
    clear: () => undefined,
    show: () => undefined,
    hide: () => undefined,
    dispose: () => undefined,
  };
}

export const workspaceFolderPath = path.resolve(__dirname, '..', '..', '..');

export const workspace: any = {
  workspaceFolders: [{ uri: Uri.file(workspaceFolderPath), name: 'ws', index: 0 }],
  textDocuments: [],
  notebookDocuments: [],
  getConfiguration: configuration,
  getWorkspaceFolder: () => workspace.workspaceFolders[0],
  onDidChangeConfiguration: configEmitter.event,
  createFileSystemWatcher: () => ({ onDidCreate: noopEvent, onDidChange: noopEvent, onDidDelete: noopEvent, dispose: () => undefined }),
  applyEdit: () => Promise.resolve(true),
  fs: {},
};
for (const e of [
  'onDidOpenTextDocument',
  'onDidCloseTextDocument',
  'onDidChangeTextDocument',
  'onDidSaveTextDocument',
  'onWillSaveTextDocument',
  'onDidChangeWorkspaceFolders',
  'onDidOpenNotebookDocument',
  'onDidCloseNotebookDocument',
  'onDidChangeNotebookDocument',
  'onDidSaveNotebookDocument',
  'onDidCreateFiles',
  'onDidRenameFiles',
  'onDidDeleteFiles',
  'onWillCreateFiles',
  'onWillRenameFiles',
  'onWillDeleteFiles',
]) {
  workspace[e] = noopEvent;
}

function message(level: string) {
  return (text: string): Promise<undefined> => {
    recorded.messages.push({ level, text });
    return Promise.resolve(undefined);
  };
}

export const window: any = {
  activeTextEditor: undefined,
  visibleTextEditors: [],
  tabGroups: { all: [], onDidChangeTabs: noopEvent, onDidChangeTabGroups: noopEvent },
  onDidChangeVisibleTextEditors: noopEvent,
  onDidChangeActiveTextEditor: noopEvent,
  createOutputChannel: (name: string) => logChannel(name),
  createStatusBarItem: (): StatusItem => {
    const item: StatusItem = {
      text: '',
      tooltip: undefined,
      command: undefined,
      backgroundColor: undefined,
      visible: false,
      show() {
        item.visible = true;
      },
      hide() {
        item.visible = false;
      },
      dispose() {
        item.visible = false;
      },
    };
    recorded.statusItems.push(item);
    return item;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  setStatusBarMessage: (text: string) => {
    recorded.messages.push({ level: 'statusbar', text });
    return new Disposable();
  },
  showQuickPick: (items: unknown[]) => {
    recorded.quickPicks.push(items);
    return Promise.resolve(undefined);
  },
  withProgress: (_opts: unknown, task: (p: unknown, t: unknown) => unknown) =>
    task({ report: () => undefined }, new CancellationTokenSource().token),
  showTextDocument: () => Promise.resolve(undefined),
};

const languagesBase: Record<string, unknown> = {
    match: () => 10,
    createDiagnosticCollection: () => {
      const map = new Map<string, unknown>();
      return {
        set: (uri: Uri, d: unknown) => map.set(uri.toString(), d),
        delete: (uri: Uri) => map.delete(uri.toString()),
        get: (uri: Uri) => map.get(uri.toString()),
        has: (uri: Uri) => map.has(uri.toString()),
        clear: () => map.clear(),
        forEach: () => undefined,
        dispose: () => map.clear(),
      };
    },
    onDidChangeDiagnostics: noopEvent,
};

export const languages: any = new Proxy(languagesBase,
  {
    get(target, prop: string) {
      if (prop in target) return target[prop];
      if (prop.startsWith('register')) {
        return (_selector: unknown, provider: unknown) => {
          const list = recorded.providers.get(prop) ?? [];
          list.push(provider);
          recorded.providers.set(prop, list);
          return new Disposable(() => list.splice(list.indexOf(provider), 1));
        };
      }
      return undefined;
    },
  },
);

export const commands = {
  registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
    if (recorded.commands.has(id)) throw new Error(`command '${id}' already exists`);
    recorded.commands.set(id, fn);
    return new Disposable(() => recorded.commands.delete(id));
  },
  executeCommand: (id: string, ...args: unknown[]) => {
    const fn = recorded.commands.get(id);
    return fn ? Promise.resolve(fn(...args)) : Promise.resolve(undefined);
  },
  getCommands: () => Promise.resolve([...recorded.commands.keys()]),
};

export const env = {
  language: 'en',
  appName: 'vscode-mock',
  appRoot: '',
  machineId: 'mock',
  sessionId: 'mock',
  uiKind: 1,
  openExternal: () => Promise.resolve(true),
};

export const extensions = { getExtension: () => undefined, all: [] };
