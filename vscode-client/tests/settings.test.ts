import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  configChangeAction,
  DEFAULT_OPTIONS,
  didChangeConfigurationParams,
  expandVariables,
  toggledMode,
  toInitializationOptions,
} from '../src/settings';

function reader(values: Record<string, unknown>): { get(key: string): unknown } {
  return { get: (key) => values[key] };
}

describe('toInitializationOptions', () => {
  it('returns the defaults for empty settings', () => {
    const { options, warnings } = toInitializationOptions(reader({}));
    assert.deepEqual(options, DEFAULT_OPTIONS);
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
    });
    assert.deepEqual(Object.keys(options).sort(), Object.keys(DEFAULT_OPTIONS).sort());
  });

  it('treats empty strings as null and 0 threads as automatic', () => {
    const { options } = toInitializationOptions(reader({ modelPath: '  ', logFile: '', threads: 0 }));
    assert.equal(options.modelPath, null);
    assert.equal(options.logFile, null);
    assert.equal(options.threads, null);
  });

  it('replaces invalid values by defaults and reports them', () => {
    const { options, warnings } = toInitializationOptions(
      reader({ mode: 'turbo', maxTokens: 'many', threads: 'all', enable: 'yes', docFolders: 'docs', excludes: [1, '*.tmp'] }),
    );
    assert.equal(options.mode, 'grounded');
    assert.equal(options.maxTokens, DEFAULT_OPTIONS.maxTokens);
    assert.equal(options.threads, null);
    assert.equal(options.enable, true);
    assert.deepEqual(options.docFolders, []);
    assert.deepEqual(options.excludes, ['*.tmp']);
    assert.equal(warnings.length, 6);
    assert.ok(warnings.some((w) => w.includes('tether.mode')));
  });

  it('clamps and truncates numbers', () => {
    const { options, warnings } = toInitializationOptions(
      reader({ maxTokens: 100000, contextBudget: 10, gpuLayers: -5, threads: 3.7 }),
    );
    assert.equal(options.maxTokens, 4096);
    assert.equal(options.contextBudget, 128);
    assert.equal(options.gpuLayers, -1);
    assert.equal(options.threads, 3);
    assert.equal(warnings.length, 3);
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
