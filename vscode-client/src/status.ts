/**
 * Status model and formatting for the status bar item and the "Show Status" view.
 *
 * Pure module (no `vscode` import) so that it can be unit tested.
 */

import { isMode, type Mode } from './settings';

/** Parsed result of the server's `tether.status` command. Missing fields stay undefined. */
export interface TetherStatus {
  model?: string;
  mode?: Mode;
  index?: {
    files?: number;
    symbols?: number;
    chunks?: number;
    indexing?: boolean;
  };
  lastLatenciesMs: number[];
  errors: string[];
  /** The untouched response, for the log. */
  raw: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function errorText(e: unknown): string | undefined {
  if (typeof e === 'string') return e;
  if (isRecord(e)) {
    const msg = e['message'];
    if (typeof msg === 'string') return msg;
  }
  if (e === undefined || e === null) return undefined;
  return JSON.stringify(e);
}

/** Tolerant parser for the `tether.status` response (unknown shape -> best effort). */
export function parseStatus(value: unknown): TetherStatus {
  const status: TetherStatus = { lastLatenciesMs: [], errors: [], raw: value };
  if (!isRecord(value)) {
    return status;
  }
  if (typeof value['model'] === 'string' && value['model'] !== '') {
    status.model = value['model'];
  }
  if (isMode(value['mode'])) {
    status.mode = value['mode'];
  }
  const index = value['index'];
  if (isRecord(index)) {
    status.index = {};
    const files = finiteNumber(index['files']);
    const symbols = finiteNumber(index['symbols']);
    const chunks = finiteNumber(index['chunks']);
    if (files !== undefined) status.index.files = files;
    if (symbols !== undefined) status.index.symbols = symbols;
    if (chunks !== undefined) status.index.chunks = chunks;
    if (typeof index['indexing'] === 'boolean') status.index.indexing = index['indexing'];
  }
  const lat = value['lastLatenciesMs'];
  if (Array.isArray(lat)) {
    status.lastLatenciesMs = lat.filter((x): x is number => finiteNumber(x) !== undefined && x >= 0);
  }
  const errors = value['errors'];
  if (Array.isArray(errors)) {
    status.errors = errors.map(errorText).filter((x): x is string => x !== undefined && x !== '');
  }
  return status;
}

/** "gemma-3-270m-Q4_K_M.gguf" -> "gemma-3-270m-Q4_K_M"; also strips directories. */
export function shortModelName(model: string): string {
  const base = model.split(/[\\/]/).pop() ?? model;
  return base.replace(/\.gguf$/i, '');
}

export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = Math.round(ms / 1000);
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

// ---------------------------------------------------------------------------------------------
// Work-done progress ($/progress)

export type WorkDoneValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number; cancellable?: boolean }
  | { kind: 'report'; message?: string; percentage?: number; cancellable?: boolean }
  | { kind: 'end'; message?: string };

export interface ProgressInfo {
  title: string;
  message?: string;
  percentage?: number;
}

/** Aggregates concurrent work-done progress streams, keyed by token. */
export class ProgressTracker {
  private readonly active = new Map<string, ProgressInfo>();

  /** Applies a `$/progress` value. Returns true when it finished a stream (kind 'end'). */
  update(token: string | number, value: WorkDoneValue): boolean {
    const key = String(token);
    switch (value.kind) {
      case 'begin': {
        const info: ProgressInfo = { title: value.title };
        if (value.message !== undefined) info.message = value.message;
        if (value.percentage !== undefined) info.percentage = clampPercent(value.percentage);
        this.active.set(key, info);
        return false;
      }
      case 'report': {
        const info = this.active.get(key) ?? { title: '' };
        if (value.message !== undefined) info.message = value.message;
        if (value.percentage !== undefined) info.percentage = clampPercent(value.percentage);
        this.active.set(key, info);
        return false;
      }
      case 'end':
        return this.active.delete(key);
    }
  }

  /** The most recently started progress still running, if any. */
  current(): ProgressInfo | undefined {
    let last: ProgressInfo | undefined;
    for (const info of this.active.values()) last = info;
    return last;
  }

  get size(): number {
    return this.active.size;
  }

  clear(): void {
    this.active.clear();
  }
}

function clampPercent(p: number): number {
  return Math.max(0, Math.min(100, Math.round(p)));
}

// ---------------------------------------------------------------------------------------------
// Status bar

export type ServerPhase = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export interface StatusBarState {
  phase: ServerPhase;
  enabled: boolean;
  mode?: Mode;
  model?: string;
  progress?: ProgressInfo;
  /** Latest completion round trip measured by the client, else the server's latest. */
  lastLatencyMs?: number;
  /** Errors reported by the server (`tether.status`) and by the client. */
  errors: string[];
  /** Delay before the next automatic restart, while restarting. */
  restartInMs?: number;
  /** Message shown when the server gave up or could not be started. */
  failure?: string;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  severity: 'normal' | 'warning' | 'error';
}

function progressText(p: ProgressInfo): string {
  const pct = p.percentage !== undefined ? ` ${p.percentage}%` : '';
  const title = p.title !== '' ? p.title : 'Working';
  return `${title}${pct}`;
}

export function formatStatusBar(s: StatusBarState): StatusBarView {
  const tooltip: string[] = [];
  let text: string;
  let severity: StatusBarView['severity'] = 'normal';

  switch (s.phase) {
    case 'failed':
      text = '$(error) Tether';
      severity = 'error';
      tooltip.push(`Tether server is not running: ${s.failure ?? 'unknown error'}`);
      tooltip.push('Click for details; run "Tether: Restart Server" to try again.');
      break;
    case 'stopped':
      text = '$(circle-slash) Tether';
      tooltip.push('Tether server is stopped.');
      break;
    case 'starting':
      text = '$(loading~spin) Tether';
      tooltip.push('Starting the Tether server…');
      break;
    case 'restarting': {
      text = '$(debug-restart) Tether';
      severity = 'warning';
      const wait = s.restartInMs !== undefined ? ` in ${formatDelay(s.restartInMs)}` : '';
      tooltip.push(`Tether server stopped unexpectedly; restarting${wait}.`);
      if (s.failure) tooltip.push(s.failure);
      break;
    }
    case 'running': {
      const parts: string[] = [];
      if (s.progress) {
        parts.push(`$(sync~spin) ${progressText(s.progress)}`);
      } else {
        parts.push(s.enabled ? '$(zap) Tether' : '$(circle-slash) Tether');
        if (s.model) parts.push(shortModelName(s.model));
        if (s.lastLatencyMs !== undefined) parts.push(formatLatency(s.lastLatencyMs));
      }
      text = parts.join(' · ');
      tooltip.push(s.enabled ? 'Tether is running.' : 'Tether is disabled (tether.enable = false).');
      break;
    }
  }

  if (s.phase === 'running' || s.phase === 'restarting') {
    if (s.model) tooltip.push(`Model: ${s.model}`);
    if (s.mode) tooltip.push(`Mode: ${s.mode}`);
    if (s.progress) {
      tooltip.push(`Indexing: ${progressText(s.progress)}${s.progress.message ? ` — ${s.progress.message}` : ''}`);
    }
    if (s.lastLatencyMs !== undefined) tooltip.push(`Last completion: ${formatLatency(s.lastLatencyMs)}`);
  }

  if (s.errors.length > 0) {
    text += ` $(warning) ${s.errors.length}`;
    if (severity === 'normal') severity = 'warning';
    tooltip.push(`${s.errors.length === 1 ? 'Error' : `${s.errors.length} errors`}:`);
    for (const e of s.errors.slice(-5)) tooltip.push(`• ${e}`);
  }
  tooltip.push('Click to show Tether status.');
  return { text, tooltip: tooltip.join('\n'), severity };
}

// ---------------------------------------------------------------------------------------------
// "Show Status" report

export interface ReportLine {
  label: string;
  detail?: string | undefined;
}

export function statusReport(status: TetherStatus): ReportLine[] {
  const lines: ReportLine[] = [];
  lines.push({ label: `Model: ${status.model ?? 'unknown'}` });
  lines.push({ label: `Mode: ${status.mode ?? 'unknown'}` });
  const idx = status.index;
  if (idx) {
    const counts = [
      idx.files !== undefined ? `${idx.files} files` : undefined,
      idx.symbols !== undefined ? `${idx.symbols} symbols` : undefined,
      idx.chunks !== undefined ? `${idx.chunks} chunks` : undefined,
    ].filter((x): x is string => x !== undefined);
    const label = `Index: ${counts.length > 0 ? counts.join(', ') : 'empty'}${idx.indexing ? ' (indexing…)' : ''}`;
    lines.push({ label });
  } else {
    lines.push({ label: 'Index: unknown' });
  }
  const lat = status.lastLatenciesMs;
  if (lat.length > 0) {
    const last = lat[lat.length - 1] ?? 0;
    const med = median(lat) ?? last;
    lines.push({
      label: `Latency: last ${formatLatency(last)}, median ${formatLatency(med)}`,
      detail: `over the last ${lat.length} completion${lat.length === 1 ? '' : 's'}`,
    });
  } else {
    lines.push({ label: 'Latency: no completions yet' });
  }
  if (status.errors.length === 0) {
    lines.push({ label: 'Errors: none' });
  } else {
    for (const e of status.errors) {
      const first = e.split('\n')[0] ?? e;
      lines.push(first === e ? { label: `Error: ${e}` } : { label: `Error: ${first}`, detail: e });
    }
  }
  return lines;
}

/** Keeps a bounded list of recent client-side error messages. */
export function pushError(errors: readonly string[], message: string, max = 20): string[] {
  const next = errors.filter((e) => e !== message);
  next.push(message);
  return next.slice(-max);
}
