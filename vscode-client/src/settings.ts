/**
 * Mapping from the `tether.*` VS Code settings to the server's
 * `initializationOptions` / `workspace/didChangeConfiguration` payload.
 *
 * Pure module: it must not import `vscode` so it can be unit tested in Node.
 */

export type Mode = 'plain' | 'rag' | 'grounded';
export const MODES: readonly Mode[] = ['plain', 'rag', 'grounded'];

/** The server contract: camelCase keys, exactly these. */
export interface InitializationOptions {
  modelPath: string | null;
  mode: Mode;
  maxTokens: number;
  contextBudget: number;
  threads: number | null;
  gpuLayers: number;
  docFolders: string[];
  excludes: string[];
  enable: boolean;
  logFile: string | null;
}

export const DEFAULT_OPTIONS: Readonly<InitializationOptions> = Object.freeze({
  modelPath: null,
  mode: 'grounded',
  maxTokens: 64,
  contextBudget: 2048,
  threads: null,
  gpuLayers: 0,
  docFolders: [],
  excludes: [],
  enable: true,
  logFile: null,
});

/** Bounds, kept in sync with the `contributes.configuration` schema in package.json. */
export const LIMITS = Object.freeze({
  maxTokens: { min: 1, max: 4096 },
  contextBudget: { min: 128, max: 131072 },
  threads: { min: 1, max: 1024 },
  gpuLayers: { min: -1, max: 100000 },
});

/** Reads a setting below the `tether` section, e.g. `get('maxTokens')`. */
export interface SettingsReader {
  get(key: string): unknown;
}

/** Values used to expand `~` and `${...}` variables in path-like settings. */
export interface ExpandContext {
  workspaceFolder?: string | undefined;
  homeDir?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface MappedOptions {
  options: InitializationOptions;
  /** Human readable problems with the user's settings (values were replaced by defaults). */
  warnings: string[];
}

/**
 * Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}`.
 * Unknown variables, and `${workspaceFolder}` without an open folder, are left untouched.
 * Relative paths are NOT made absolute: the server resolves them (e.g. against the workspace
 * root, or a bare model file name against its bundled models).
 */
export function expandVariables(value: string, ctx: ExpandContext): string {
  let out = value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === 'workspaceFolder' || name === 'workspaceRoot') {
      return ctx.workspaceFolder ?? whole;
    }
    if (name === 'userHome') {
      return ctx.homeDir ?? whole;
    }
    if (name.startsWith('env:')) {
      return ctx.env?.[name.slice(4)] ?? '';
    }
    return whole;
  });
  if (ctx.homeDir !== undefined && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
    out = ctx.homeDir + out.slice(1);
  }
  return out;
}

function optionalPath(
  key: string,
  raw: unknown,
  ctx: ExpandContext,
  warnings: string[],
): string | null {
  if (raw === undefined || raw === null) {
    return null;
  }
  if (typeof raw !== 'string') {
    warnings.push(`tether.${key} must be a string or null; ignoring it.`);
    return null;
  }
  const trimmed = raw.trim();
  return trimmed === '' ? null : expandVariables(trimmed, ctx);
}

function integer(
  key: keyof typeof LIMITS,
  raw: unknown,
  fallback: number,
  warnings: string[],
): number {
  const { min, max } = LIMITS[key];
  if (raw === undefined || raw === null) {
    return fallback;
  }
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    warnings.push(`tether.${key} must be an integer; using ${fallback}.`);
    return fallback;
  }
  const value = Math.trunc(raw);
  if (value < min || value > max) {
    const clamped = Math.min(max, Math.max(min, value));
    warnings.push(`tether.${key} must be between ${min} and ${max}; using ${clamped}.`);
    return clamped;
  }
  return value;
}

function stringList(
  key: string,
  raw: unknown,
  warnings: string[],
  expand?: (s: string) => string,
): string[] {
  if (raw === undefined || raw === null) {
    return [];
  }
  if (!Array.isArray(raw)) {
    warnings.push(`tether.${key} must be an array of strings; ignoring it.`);
    return [];
  }
  const out: string[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item !== 'string') {
      warnings.push(`tether.${key} contains a non-string entry; skipping it.`);
      continue;
    }
    const trimmed = item.trim();
    if (trimmed === '') {
      continue;
    }
    const value = expand ? expand(trimmed) : trimmed;
    if (!out.includes(value)) {
      out.push(value);
    }
  }
  return out;
}

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

/** Builds the server's initializationOptions from the `tether` configuration section. */
export function toInitializationOptions(read: SettingsReader, ctx: ExpandContext = {}): MappedOptions {
  const warnings: string[] = [];
  const expand = (s: string): string => expandVariables(s, ctx);

  const rawMode = read.get('mode');
  let mode: Mode = DEFAULT_OPTIONS.mode;
  if (isMode(rawMode)) {
    mode = rawMode;
  } else if (rawMode !== undefined && rawMode !== null) {
    warnings.push(`tether.mode must be one of ${MODES.join(', ')}; using ${mode}.`);
  }

  const rawThreads = read.get('threads');
  let threads: number | null = null;
  if (rawThreads !== undefined && rawThreads !== null && rawThreads !== 0) {
    if (typeof rawThreads === 'number' && Number.isFinite(rawThreads)) {
      threads = integer('threads', rawThreads, 1, warnings);
    } else {
      warnings.push('tether.threads must be a positive integer or null; letting the server decide.');
    }
  }

  const rawEnable = read.get('enable');
  let enable = DEFAULT_OPTIONS.enable;
  if (typeof rawEnable === 'boolean') {
    enable = rawEnable;
  } else if (rawEnable !== undefined && rawEnable !== null) {
    warnings.push('tether.enable must be true or false; using true.');
  }

  const options: InitializationOptions = {
    modelPath: optionalPath('modelPath', read.get('modelPath'), ctx, warnings),
    mode,
    maxTokens: integer('maxTokens', read.get('maxTokens'), DEFAULT_OPTIONS.maxTokens, warnings),
    contextBudget: integer(
      'contextBudget',
      read.get('contextBudget'),
      DEFAULT_OPTIONS.contextBudget,
      warnings,
    ),
    threads,
    gpuLayers: integer('gpuLayers', read.get('gpuLayers'), DEFAULT_OPTIONS.gpuLayers, warnings),
    docFolders: stringList('docFolders', read.get('docFolders'), warnings, expand),
    excludes: stringList('excludes', read.get('excludes'), warnings),
    enable,
    logFile: optionalPath('logFile', read.get('logFile'), ctx, warnings),
  };
  return { options, warnings };
}

/** Payload of `workspace/didChangeConfiguration` per the server contract. */
export function didChangeConfigurationParams(options: InitializationOptions): {
  settings: { tether: InitializationOptions };
} {
  return { settings: { tether: options } };
}

export type ConfigChangeAction = 'none' | 'notify' | 'restart';

/**
 * What to do after a configuration change. `affects` is
 * `ConfigurationChangeEvent.affectsConfiguration` (bound to the scope of interest).
 * Changing how the server is launched needs a restart; other `tether.*` settings are pushed
 * to the running server.
 */
export function configChangeAction(affects: (section: string) => boolean): ConfigChangeAction {
  if (affects('tether.server')) {
    return 'restart';
  }
  if (affects('tether')) {
    // `tether.trace.server` is consumed by the language client itself.
    const serverKeys: (keyof InitializationOptions)[] = [
      'modelPath',
      'mode',
      'maxTokens',
      'contextBudget',
      'threads',
      'gpuLayers',
      'docFolders',
      'excludes',
      'enable',
      'logFile',
    ];
    return serverKeys.some((k) => affects(`tether.${k}`)) ? 'notify' : 'none';
  }
  return 'none';
}

/**
 * "Toggle grounded mode": grounded -> the mode used before (default rag); anything else ->
 * grounded.
 */
export function toggledMode(current: Mode, previous: Mode | undefined): Mode {
  if (current !== 'grounded') {
    return 'grounded';
  }
  return previous !== undefined && previous !== 'grounded' ? previous : 'rag';
}
