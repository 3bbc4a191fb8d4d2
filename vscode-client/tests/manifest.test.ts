// Checks that package.json (the extension manifest) agrees with the code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_OPTIONS, LIMITS, MODES } from '../src/settings';

// Tests run from out/tests/, the manifest lives two levels up.
const root = join(__dirname, '..', '..');
interface Manifest {
  name: string;
  license: string;
  repository?: unknown;
  main: string;
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    configuration: { properties: Record<string, { default?: unknown; enum?: string[]; minimum?: number; maximum?: number }> };
  };
}
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

describe('package.json manifest', () => {
  it('declares every server option as a setting with the same default', () => {
    for (const [key, value] of Object.entries(DEFAULT_OPTIONS)) {
      const prop = props[`tether.${key}`];
      assert.ok(prop, `missing setting tether.${key}`);
      assert.deepEqual(prop.default, value, `default of tether.${key}`);
    }
  });

  it('keeps enum and bounds in sync with the code', () => {
    assert.deepEqual(props['tether.mode']?.enum, [...MODES]);
    for (const key of ['maxTokens', 'contextBudget', 'gpuLayers'] as const) {
      assert.equal(props[`tether.${key}`]?.minimum, LIMITS[key].min, key);
    }
    assert.equal(props['tether.maxTokens']?.maximum, LIMITS.maxTokens.max);
    assert.equal(props['tether.contextBudget']?.maximum, LIMITS.contextBudget.max);
  });

  it('declares the launch settings', () => {
    assert.ok(props['tether.server.command']);
    assert.ok(props['tether.server.pythonPath']);
  });

  it('contributes the commands the extension registers, without clashing with server commands', () => {
    const ids = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(ids, [
      'tether.reindexWorkspace',
      'tether.restartServer',
      'tether.showLogs',
      'tether.showStatus',
      'tether.toggleGroundedMode',
    ]);
    const source = readFileSync(join(root, 'src', 'extension.ts'), 'utf8');
    for (const id of ids) assert.ok(source.includes(`'${id}'`), `${id} is not registered in extension.ts`);
    // The language client registers the server's own commands; ours must differ.
    assert.ok(!ids.includes('tether.reindex') && !ids.includes('tether.status'));
  });

  it('has what vsce needs to package non-interactively', () => {
    assert.equal(manifest.license, 'MIT');
    assert.ok(manifest.repository);
    assert.equal(manifest.main, './dist/extension.js');
    const typesVersion = manifest.devDependencies['@types/vscode']?.replace(/^[\^~]/, '');
    assert.equal(manifest.engines.vscode.replace(/^[\^~]/, ''), typesVersion);
    readFileSync(join(root, 'LICENSE'), 'utf8');
  });

  it('provides the CI scripts', () => {
    for (const s of ['build', 'typecheck', 'lint', 'test', 'package', 'ci']) assert.ok(manifest.scripts[s], s);
  });
});
