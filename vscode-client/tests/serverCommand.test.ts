import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatCommandLine,
  isResolveError,
  resolveServerCommand,
  splitCommandLine,
  which,
} from '../src/serverCommand';

const onPath = (found: string | undefined) => ({ which: () => found });

describe('resolveServerCommand', () => {
  it('prefers an explicit command array', () => {
    const r = resolveServerCommand(
      { command: ['/opt/tether/bin/tether', 'serve', '--log-level', 'debug'], pythonPath: '/usr/bin/python3' },
      onPath('/usr/bin/tether'),
    );
    assert.deepEqual(r, { command: '/opt/tether/bin/tether', args: ['serve', '--log-level', 'debug'], source: 'command' });
  });

  it('splits an explicit command string', () => {
    const r = resolveServerCommand({ command: '"/opt/my tools/python" -m tether serve' }, onPath(undefined));
    assert.deepEqual(r, { command: '/opt/my tools/python', args: ['-m', 'tether', 'serve'], source: 'command' });
  });

  it('uses pythonPath -m tether serve when no command is set', () => {
    for (const command of [undefined, null, '', '   ', []]) {
      const r = resolveServerCommand({ command, pythonPath: '/venv/bin/python' }, onPath('/usr/bin/tether'));
      assert.deepEqual(r, { command: '/venv/bin/python', args: ['-P', '-m', 'tether', 'serve'], source: 'pythonPath' });
    }
  });

  it('falls back to tether on PATH', () => {
    const r = resolveServerCommand({ command: null, pythonPath: null }, onPath('/usr/local/bin/tether'));
    assert.deepEqual(r, { command: '/usr/local/bin/tether', args: ['serve'], source: 'path' });
  });

  it('explains what to configure when nothing is found', () => {
    const r = resolveServerCommand({}, onPath(undefined));
    assert.ok(isResolveError(r));
    assert.match(r.error, /tether\.server\.pythonPath/);
    assert.match(r.error, /tether\.server\.command/);
  });

  it('expands variables in the executable and the interpreter', () => {
    const expand = (s: string) => s.replace('${workspaceFolder}', '/ws').replace(/^~/, '/home/u');
    assert.deepEqual(resolveServerCommand({ pythonPath: '${workspaceFolder}/.venv/bin/python' }, { ...onPath(undefined), expand }), {
      command: '/ws/.venv/bin/python',
      args: ['-P', '-m', 'tether', 'serve'],
      source: 'pythonPath',
    });
    assert.deepEqual(resolveServerCommand({ command: ['~/bin/tether', 'serve'] }, { ...onPath(undefined), expand }), {
      command: '/home/u/bin/tether',
      args: ['serve'],
      source: 'command',
    });
  });

  it('rejects malformed commands', () => {
    assert.ok(isResolveError(resolveServerCommand({ command: ['tether', 3] }, onPath('/x'))));
    assert.ok(isResolveError(resolveServerCommand({ command: [' ', 'serve'] }, onPath('/x'))));
    assert.ok(isResolveError(resolveServerCommand({ command: 'tether "serve' }, onPath('/x'))));
    assert.ok(isResolveError(resolveServerCommand({ command: 42 }, onPath('/x'))));
  });
});

describe('splitCommandLine', () => {
  it('splits like a shell for the simple cases', () => {
    assert.deepEqual(splitCommandLine('  tether   serve '), ['tether', 'serve']);
    assert.deepEqual(splitCommandLine(`a 'b c' "d \\"e\\"" f\\ g ''`), ['a', 'b c', 'd "e"', 'f g', '']);
    assert.deepEqual(splitCommandLine('C:\\Python\\python.exe -m x'), ['C:\\Python\\python.exe', '-m', 'x']);
    assert.deepEqual(splitCommandLine(''), []);
  });
  it('throws on unterminated quotes', () => {
    assert.throws(() => splitCommandLine("a 'b"), /unterminated/);
  });
});

describe('formatCommandLine', () => {
  it('quotes arguments with spaces', () => {
    assert.equal(formatCommandLine({ command: '/a b/python', args: ['-P', '-m', 'tether', 'serve'] }), "'/a b/python' -P -m tether serve");
  });
});

describe('which', () => {
  it('searches PATH in order on POSIX', () => {
    const files = new Set(['/usr/local/bin/tether', '/usr/bin/tether']);
    const found = which('tether', { env: { PATH: '/nope::/usr/local/bin:/usr/bin' }, platform: 'linux', isExecutable: (f) => files.has(f) });
    assert.equal(found, '/usr/local/bin/tether');
    assert.equal(which('tether', { env: {}, platform: 'linux', isExecutable: () => true }), undefined);
  });
  it('honours PATHEXT on Windows', () => {
    // Windows file names are case-insensitive.
    const files = new Set(['c:\\venv\\scripts\\tether.exe']);
    const found = which('tether', {
      env: { Path: 'C:\\Windows;C:\\venv\\Scripts', PATHEXT: '.COM;.EXE' },
      platform: 'win32',
      isExecutable: (f) => files.has(f.toLowerCase()),
    });
    assert.equal(found, 'C:\\venv\\Scripts\\tether.EXE');
  });
  it('checks paths with a separator directly', () => {
    assert.equal(which('./bin/tether', { env: { PATH: '/usr/bin' }, platform: 'linux', isExecutable: (f) => f === './bin/tether' }), './bin/tether');
  });
});
