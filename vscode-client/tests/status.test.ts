import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatDelay,
  formatLatency,
  formatStatusBar,
  median,
  parseStatus,
  ProgressTracker,
  pushError,
  shortModelName,
  statusReport,
  type StatusBarState,
} from '../src/status';
import { stderrLineLevel } from '../src/serverLog';

const SAMPLE = {
  model: 'gemma-3-270m-Q4_K_M.gguf',
  mode: 'grounded',
  index: { files: 120, symbols: 3400, chunks: 900, indexing: false },
  lastLatenciesMs: [120.5, 98.1],
  errors: [],
};

describe('parseStatus', () => {
  it('parses the documented shape', () => {
    const s = parseStatus(SAMPLE);
    assert.equal(s.model, 'gemma-3-270m-Q4_K_M.gguf');
    assert.equal(s.mode, 'grounded');
    assert.deepEqual(s.index, { files: 120, symbols: 3400, chunks: 900, indexing: false });
    assert.deepEqual(s.lastLatenciesMs, [120.5, 98.1]);
    assert.deepEqual(s.errors, []);
    assert.equal(s.raw, SAMPLE);
  });

  it('tolerates missing and malformed fields', () => {
    assert.deepEqual(parseStatus(null), { lastLatenciesMs: [], errors: [], raw: null });
    const s = parseStatus({ model: 3, mode: 'fast', index: [], lastLatenciesMs: [1, 'x', -1, null, 2], errors: ['a', { message: 'b' }, 7, null, ''] });
    assert.equal(s.model, undefined);
    assert.equal(s.mode, undefined);
    assert.equal(s.index, undefined);
    assert.deepEqual(s.lastLatenciesMs, [1, 2]);
    assert.deepEqual(s.errors, ['a', 'b', '7']);
  });
});

describe('formatting helpers', () => {
  it('formats latencies', () => {
    assert.equal(formatLatency(3.14159), '3.1 ms');
    assert.equal(formatLatency(98.1), '98 ms');
    assert.equal(formatLatency(1234), '1.23 s');
    assert.equal(formatLatency(12_345), '12.3 s');
    assert.equal(formatLatency(Number.NaN), '?');
  });
  it('formats delays', () => {
    assert.equal(formatDelay(500), '500 ms');
    assert.equal(formatDelay(1000), '1 second');
    assert.equal(formatDelay(8000), '8 seconds');
  });
  it('computes medians', () => {
    assert.equal(median([]), undefined);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });
  it('shortens model names', () => {
    assert.equal(shortModelName('/models/gemma-3-270m-Q4_K_M.gguf'), 'gemma-3-270m-Q4_K_M');
    assert.equal(shortModelName('C:\\m\\x.GGUF'), 'x');
    assert.equal(shortModelName('smollm2'), 'smollm2');
  });
  it('keeps a bounded, de-duplicated error list', () => {
    assert.deepEqual(pushError(['a', 'b'], 'a'), ['b', 'a']);
    assert.deepEqual(pushError(['a', 'b', 'c'], 'd', 3), ['b', 'c', 'd']);
  });
});

describe('ProgressTracker', () => {
  it('follows begin/report/end per token', () => {
    const t = new ProgressTracker();
    assert.equal(t.current(), undefined);
    t.update('idx', { kind: 'begin', title: 'Indexing', percentage: 0 });
    t.update('idx', { kind: 'report', message: '12/120 files', percentage: 10.4 });
    assert.deepEqual(t.current(), { title: 'Indexing', message: '12/120 files', percentage: 10 });
    t.update(7, { kind: 'begin', title: 'Embedding' });
    assert.equal(t.current()?.title, 'Embedding');
    assert.equal(t.update(7, { kind: 'end' }), true);
    assert.equal(t.current()?.title, 'Indexing');
    t.update('idx', { kind: 'report', percentage: 250 });
    assert.equal(t.current()?.percentage, 100);
    assert.equal(t.update('idx', { kind: 'end', message: 'done' }), true);
    assert.equal(t.update('idx', { kind: 'end' }), false);
    assert.equal(t.size, 0);
  });
});

describe('formatStatusBar', () => {
  const base: StatusBarState = { phase: 'running', enabled: true, errors: [] };

  it('shows model and last latency when idle', () => {
    const v = formatStatusBar({ ...base, model: 'gemma-3-270m-Q4_K_M.gguf', mode: 'grounded', lastLatencyMs: 120.5 });
    assert.equal(v.text, '$(zap) Tether · gemma-3-270m-Q4_K_M · 121 ms');
    assert.equal(v.severity, 'normal');
    assert.match(v.tooltip, /Model: gemma-3-270m-Q4_K_M\.gguf/);
    assert.match(v.tooltip, /Mode: grounded/);
    assert.match(v.tooltip, /Last completion: 121 ms/);
  });

  it('shows indexing progress', () => {
    const v = formatStatusBar({ ...base, progress: { title: 'Indexing', message: '12/120 files', percentage: 10 } });
    assert.equal(v.text, '$(sync~spin) Indexing 10%');
    assert.match(v.tooltip, /Indexing: Indexing 10% — 12\/120 files/);
  });

  it('flags errors with a count and warning severity', () => {
    const v = formatStatusBar({ ...base, errors: ['model not found', 'index failed'] });
    assert.equal(v.text, '$(zap) Tether $(warning) 2');
    assert.equal(v.severity, 'warning');
    assert.match(v.tooltip, /• model not found/);
  });

  it('shows disabled, starting, restarting and failed states', () => {
    assert.equal(formatStatusBar({ ...base, enabled: false }).text, '$(circle-slash) Tether');
    assert.equal(formatStatusBar({ ...base, phase: 'starting' }).text, '$(loading~spin) Tether');
    const r = formatStatusBar({ ...base, phase: 'restarting', restartInMs: 2000, failure: 'server exited with code 1' });
    assert.equal(r.severity, 'warning');
    assert.match(r.tooltip, /restarting in 2 seconds/);
    const f = formatStatusBar({ ...base, phase: 'failed', failure: 'crashed 5 times', errors: ['crashed 5 times'] });
    assert.equal(f.severity, 'error');
    assert.equal(f.text, '$(error) Tether $(warning) 1');
    assert.match(f.tooltip, /not running: crashed 5 times/);
  });
});

describe('statusReport', () => {
  it('summarises the server status', () => {
    const lines = statusReport(parseStatus(SAMPLE)).map((l) => l.label);
    assert.deepEqual(lines, [
      'Model: gemma-3-270m-Q4_K_M.gguf',
      'Mode: grounded',
      'Index: 120 files, 3400 symbols, 900 chunks',
      'Latency: last 98 ms, median 109 ms',
      'Errors: none',
    ]);
  });

  it('lists errors and handles an empty status', () => {
    const lines = statusReport(parseStatus({ index: { indexing: true }, errors: ['boom\ntraceback'] }));
    assert.deepEqual(lines, [
      { label: 'Model: unknown' },
      { label: 'Mode: unknown' },
      { label: 'Index: empty (indexing…)' },
      { label: 'Latency: no completions yet' },
      { label: 'Error: boom', detail: 'boom\ntraceback' },
    ]);
  });
});

describe('stderrLineLevel', () => {
  it('classifies Python logging lines and tracebacks', () => {
    assert.equal(stderrLineLevel('INFO:lsp_server:indexing 120 files', undefined), 'info');
    assert.equal(stderrLineLevel('2025-01-01 12:00:00 WARNING model is slow', 'info'), 'warn');
    assert.equal(stderrLineLevel('DEBUG:pygls:message', undefined), 'debug');
    assert.equal(stderrLineLevel('Traceback (most recent call last):', 'info'), 'error');
    assert.equal(stderrLineLevel('  File "x.py", line 3, in <module>', 'error'), 'error');
    assert.equal(stderrLineLevel('ValueError: bad model path', 'error'), 'error');
    assert.equal(stderrLineLevel('ValueError: unrelated', 'info'), 'info');
    assert.equal(stderrLineLevel('loading model', undefined), 'info');
    assert.equal(stderrLineLevel('   continued', undefined), 'info');
  });
});
