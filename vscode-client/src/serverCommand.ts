/**
 * Resolution of the command line that starts the Tether language server.
 *
 * Precedence: `tether.server.command` > `tether.server.pythonPath -m tether serve` >
 * `tether serve` found on PATH.
 *
 * Pure module (no `vscode` import); file-system access is injected for testing.
 */

import * as path from 'node:path';

export interface ServerLaunchSettings {
  /** `tether.server.command`: argv array or a command line string. */
  command?: unknown;
  /** `tether.server.pythonPath`. */
  pythonPath?: unknown;
}

export type CommandSource = 'command' | 'pythonPath' | 'path';

export interface ResolvedCommand {
  command: string;
  args: string[];
  source: CommandSource;
}

export interface ResolveError {
  error: string;
}

export interface ResolveContext {
  /** Expands `~` / `${workspaceFolder}` etc. in user supplied paths. */
  expand?: (value: string) => string;
  /** Returns the absolute path of an executable found on PATH, or undefined. */
  which: (name: string) => string | undefined;
}

export const DEFAULT_EXECUTABLE = 'tether';
export const SERVE_ARGS: readonly string[] = ['serve'];
// -P (Python 3.11+): the working directory, the user's workspace, is not put on sys.path, so a
// workspace file such as index.py can never stand in for one of Tether's modules.
export const PYTHON_MODULE_ARGS: readonly string[] = ['-P', '-m', 'tether', 'serve'];

/**
 * Splits a command line into argv the way a POSIX shell would for the simple cases:
 * whitespace separates words, single quotes are literal, double quotes allow `\"` and `\\`,
 * a backslash outside quotes escapes the next character. No globbing or variable expansion.
 * Throws on an unterminated quote.
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quote === "'") {
      if (ch === "'") {
        quote = undefined;
      } else {
        current += ch;
      }
      continue;
    }
    if (quote === '"') {
      if (ch === '"') {
        quote = undefined;
      } else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
        current += line.charAt(++i);
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length && /[\s"'\\]/.test(line.charAt(i + 1))) {
      current += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) {
        out.push(current);
        current = '';
        inWord = false;
      }
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) {
    throw new Error(`unterminated ${quote} quote`);
  }
  if (inWord) {
    out.push(current);
  }
  return out;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function resolveServerCommand(
  settings: ServerLaunchSettings,
  ctx: ResolveContext,
): ResolvedCommand | ResolveError {
  const expand = ctx.expand ?? ((s: string) => s);

  const rawCommand = settings.command;
  if (Array.isArray(rawCommand) && rawCommand.length > 0) {
    if (!rawCommand.every((a): a is string => typeof a === 'string')) {
      return { error: 'tether.server.command must be an array of strings.' };
    }
    const argv = rawCommand.map((a, i) => (i === 0 ? expand(a.trim()) : expand(a)));
    const [command, ...args] = argv;
    if (command === undefined || command === '') {
      return { error: 'tether.server.command: the first element (the executable) is empty.' };
    }
    return { command, args, source: 'command' };
  }
  const commandLine = nonEmptyString(rawCommand);
  if (commandLine !== undefined) {
    let argv: string[];
    try {
      argv = splitCommandLine(commandLine);
    } catch (e) {
      return { error: `tether.server.command could not be parsed: ${(e as Error).message}.` };
    }
    const [command, ...args] = argv.map(expand);
    if (command === undefined || command === '') {
      return { error: 'tether.server.command is empty.' };
    }
    return { command, args, source: 'command' };
  }
  if (rawCommand !== undefined && rawCommand !== null && !Array.isArray(rawCommand) && typeof rawCommand !== 'string') {
    return { error: 'tether.server.command must be a string or an array of strings.' };
  }

  const python = nonEmptyString(settings.pythonPath);
  if (python !== undefined) {
    return { command: expand(python), args: [...PYTHON_MODULE_ARGS], source: 'pythonPath' };
  }

  const found = ctx.which(DEFAULT_EXECUTABLE);
  if (found === undefined) {
    return {
      error:
        "Could not find the 'tether' executable on PATH. Install the Tether server " +
        '(the tether-lsp Python package) or set "tether.server.pythonPath" (a Python interpreter that ' +
        'has it installed) or "tether.server.command".',
    };
  }
  return { command: found, args: [...SERVE_ARGS], source: 'path' };
}

export function isResolveError(r: ResolvedCommand | ResolveError): r is ResolveError {
  return 'error' in r;
}

/** A human readable form of a command line, quoting arguments that contain spaces. */
export function formatCommandLine(cmd: { command: string; args: readonly string[] }): string {
  return [cmd.command, ...cmd.args]
    .map((a) => (a === '' || /[\s"'\\$]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a))
    .join(' ');
}

export interface WhichOptions {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** True when `file` exists and is an executable regular file. */
  isExecutable: (file: string) => boolean;
}

/** Looks an executable up on PATH (honouring PATHEXT on Windows). */
export function which(name: string, opts: WhichOptions): string | undefined {
  const isWindows = opts.platform === 'win32';
  const p = isWindows ? path.win32 : path.posix;
  const pathVar = isWindows ? (opts.env['Path'] ?? opts.env['PATH']) : opts.env['PATH'];
  const exts = isWindows
    ? ['', ...(opts.env['PATHEXT'] ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '')]
    : [''];
  if (name.includes('/') || (isWindows && name.includes('\\'))) {
    return exts.map((e) => name + e).find((f) => opts.isExecutable(f));
  }
  for (const dir of (pathVar ?? '').split(isWindows ? ';' : ':')) {
    if (dir === '') {
      continue;
    }
    for (const ext of exts) {
      const candidate = p.join(dir, name + ext);
      if (opts.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}
