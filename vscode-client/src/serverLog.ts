/**
 * Classifies the server's stderr lines into log levels for the Tether output channel (Python's
 * logging writes everything, info included, to stderr).
 *
 * Pure module (no `vscode` import).
 */

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const PATTERNS: [RegExp, LogLevelName][] = [
  [/\b(CRITICAL|FATAL|ERROR|EXCEPTION)\b|^Traceback \(most recent call last\)/, 'error'],
  [/\bWARN(ING)?\b/, 'warn'],
  [/\bINFO\b/, 'info'],
  [/\bDEBUG\b/, 'debug'],
  [/\bTRACE\b/, 'trace'],
];

/**
 * Level of one stderr line. Indented lines (traceback frames, wrapped messages) and lines right
 * after a traceback inherit the previous line's level; unclassified lines are info.
 */
export function stderrLineLevel(line: string, previous: LogLevelName | undefined): LogLevelName {
  if (previous !== undefined && /^\s+\S/.test(line)) {
    return previous;
  }
  for (const [re, level] of PATTERNS) {
    if (re.test(line)) {
      return level;
    }
  }
  // The last line of a Python traceback, e.g. "ValueError: bad model path".
  if (previous === 'error' && /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b/.test(line)) {
    return 'error';
  }
  return 'info';
}
