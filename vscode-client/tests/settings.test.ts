import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  configChangeAction,
  DEFAULT_OPTIONS,
  didChangeConfigurationParams,
  expandVariables,
  type InspectedSetting,
  SERVER_KEYS,
  type SettingsReader,
  toggledMode,
  toInitializationOptions,
  userValue,
} from '../src/settings';

/** Settings the user set in one scope (user settings by default), as `inspect` reports them. */
function reader(values: Record<string, unknown>, scope: keyof InspectedSetting = 'globalValue'): SettingsReader {
  return { inspect: (key) => (key in values ? { [scope]: values[key] } : {}) };
}

describe('toInitializationOptions', () => {
  it('sends nothing when nothing is set', () => {
    const { options, warnings } = toInitializationOptions(reader({}));
    assert.deepEqual(options, {});
    assert.deepEqual(warnings, []);
  });

  it('maps every setting to the camelCase contract keys', () => {
    const { options, warnings } = toInitializationOptions(
      reader({
        modelPath: '/models/gemma-3-270m-Q4_K_M.gguf',
        mode: 'rag',
        maxTokens: 128,
        contextBudget: 4096,
        threads: 8,
        gpuLayers: -1,
        docFolders: ['docs', ' ', 'docs', 'vendor/docs'],
        excludes: ['**/build/**'],
        enable: false,
        logFile: '/tmp/tether.log',
        debounceMs: 0,
        embeddings: false,
      }),
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(options, {
      modelPath: '/models/gemma-3-270m-Q4_K_M.gguf',
      mode: 'rag',
      maxTokens: 128,
      contextBudget: 4096,
      threads: 8,
      gpuLayers: -1,
      docFolders: ['docs', 'vendor/docs'],
      excludes: ['**/build/**'],
      enable: false,
      logFile: '/tmp/tether.log',
      debounceMs: 0,
      embeddings: false,
    });
    assert.deepEqual(Object.keys(options).sort(), Object.keys(DEFAULT_OPTIONS).sort());
  });

  it('sends blank paths and explicit nulls as null where the server allows null', () => {
    const { options, warnings } = toInitializationOptions(
      reader({ modelPath: '  ', logFile: '', threads: null, gpuLayers: 0, maxTokens: null }),
    );
    assert.deepEqual(options, { modelPath: null, logFile: null, threads: null, gpuLayers: 0 });
    assert.deepEqual(warnings, []);
  });

  it('does not send invalid values and reports them', () => {
    const { options, warnings } = toInitializationOptions(
      reader({ mode: 'turbo', maxTokens: 'many', threads: 'all', enable: 'yes', docFolders: 'docs', excludes: [1, '*.tmp'] }),
    );
    assert.deepEqual(options, { excludes: ['*.tmp'] });
    assert.equal(warnings.length, 6);
    assert.ok(warnings.some((w) => w.includes('tether.mode')));
  });

  it("checks numbers against the server's limits", () => {
    const { options, warnings } = toInitializationOptions(
      reader({ maxTokens: 100000, contextBudget: 0, gpuLayers: -5, threads: 3.7, debounceMs: 2001 }),
    );
    assert.deepEqual(options, { maxTokens: 100000, contextBudget: 0 });
    assert.equal(warnings.length, 3);
    assert.ok(warnings.some((w) => w === 'tether.debounceMs must be an integer from 0 to 2000; ignoring it.'));
    assert.ok(warnings.some((w) => w === 'tether.gpuLayers must be an integer >= -1 or null; ignoring it.'));
  });

  it('expands variables in paths but leaves relative paths and excludes alone', () => {
    const ctx = { workspaceFolder: '/ws', homeDir: '/home/u', env: { MODELS: '/m' } };
    const { options } = toInitializationOptions(
      reader({
        modelPath: '${env:MODELS}/x.gguf',
        docFolders: ['${workspaceFolder}/docs', '~/notes', 'relative/docs'],
        excludes: ['${workspaceFolder}/**'],
        logFile: '~/tether.log',
      }),
      ctx,
    );
    assert.equal(options.modelPath, '/m/x.gguf');
    assert.deepEqual(options.docFolders, ['/ws/docs', '/home/u/notes', 'relative/docs']);
    assert.deepEqual(options.excludes, ['${workspaceFolder}/**']);
    assert.equal(options.logFile, '/home/u/tether.log');
  });

  it('keeps bare model file names (resolved by the server)', () => {
    const { options } = toInitializationOptions(reader({ modelPath: 'gemma-3-270m-Q4_K_M.gguf' }), { workspaceFolder: '/ws' });
    assert.equal(options.modelPath, 'gemma-3-270m-Q4_K_M.gguf');
  });
});

describe('only the settings the user set are sent', () => {
  it('ignores the defaults VS Code reports, so [tool.tether] keeps its values', () => {
    const defaultsOnly: SettingsReader = {
      inspect: (key) => ({ defaultValue: (DEFAULT_OPTIONS as unknown as Record<string, unknown>)[key] }) as InspectedSetting,
    };
    assert.deepEqual(toInitializationOptions(defaultsOnly).options, {});
  });

  it('sends a value set in any scope', () => {
    for (const scope of ['globalValue', 'workspaceValue', 'workspaceFolderValue', 'workspaceLanguageValue'] as const) {
      const { options } = toInitializationOptions(reader({ contextBudget: 2048, gpuLayers: 0 }, scope));
      assert.deepEqual(options, { contextBudget: 2048, gpuLayers: 0 }, scope);
    }
  });

  it('prefers the most specific scope', () => {
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2 }), 2);
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
    assert.equal(userValue({ workspaceFolderValue: 3, globalLanguageValue: 4 }), 4);
    assert.equal(userValue({ workspaceValue: null, globalValue: 1 }), null);
    assert.equal(userValue({}), undefined);
    assert.equal(userValue(undefined), undefined);
  });
});

describe('expandVariables', () => {
  it('handles home, workspace, env and unknown variables', () => {
    const ctx = { workspaceFolder: '/ws', homeDir: '/h', env: { A: 'a' } };
    assert.equal(expandVariables('~', ctx), '/h');
    assert.equal(expandVariables('~/x', ctx), '/h/x');
    assert.equal(expandVariables('a~b', ctx), 'a~b');
    assert.equal(expandVariables('${userHome}/y', ctx), '/h/y');
    assert.equal(expandVariables('${workspaceFolder}/${env:A}/${env:MISSING}z', ctx), '/ws/a/z');
    assert.equal(expandVariables('${unknown}', ctx), '${unknown}');
    assert.equal(expandVariables('${workspaceFolder}/x', {}), '${workspaceFolder}/x');
  });
});

describe('didChangeConfigurationParams', () => {
  it('wraps options as {settings: {tether: ...}}', () => {
    assert.deepEqual(didChangeConfigurationParams({ ...DEFAULT_OPTIONS }), { settings: { tether: { ...DEFAULT_OPTIONS } } });
  });
  it('sends null for the settings the user does not set', () => {
    const { tether } = didChangeConfigurationParams({ maxTokens: 32 }).settings;
    assert.deepEqual(Object.keys(tether).sort(), [...SERVER_KEYS].sort());
    assert.equal(tether.maxTokens, 32);
    assert.equal(tether.contextBudget, null);
    assert.equal(tether.mode, null);
  });
});

describe('configChangeAction', () => {
  const affects = (changed: string) => (section: string) => changed === section || changed.startsWith(`${section}.`);
  it('restarts for launch settings', () => {
    assert.equal(configChangeAction(affects('tether.server.pythonPath')), 'restart');
    assert.equal(configChangeAction(affects('tether.server.command')), 'restart');
  });
  it('notifies for server options', () => {
    for (const key of Object.keys(DEFAULT_OPTIONS)) {
      assert.equal(configChangeAction(affects(`tether.${key}`)), 'notify', key);
    }
  });
  it('ignores client-only and unrelated settings', () => {
    assert.equal(configChangeAction(affects('tether.trace.server')), 'none');
    assert.equal(configChangeAction(affects('editor.fontSize')), 'none');
  });
});

describe('toggledMode', () => {
  it('switches to grounded from any other mode', () => {
    assert.equal(toggledMode('plain', undefined), 'grounded');
    assert.equal(toggledMode('rag', 'plain'), 'grounded');
  });
  it('switches back to the previous mode, rag by default', () => {
    assert.equal(toggledMode('grounded', 'plain'), 'plain');
    assert.equal(toggledMode('grounded', undefined), 'rag');
    assert.equal(toggledMode('grounded', 'grounded'), 'rag');
  });
});
