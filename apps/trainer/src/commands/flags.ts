/**
 * Commands as data: each declares its flags once (kind, default, range, help line), and this
 * module parses and checks argv against the table and writes the command's --help from it, so
 * a default cannot say one thing in the help and do another in the code.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { UserError } from '../errors';

interface Base {
  help: string;
  /** The value's name in the help (default: N for numbers, X for reals, TEXT, PATH). */
  metavar?: string;
  /** Help's "(default …)" when the default is not a constant (e.g. "the newest epoch"). */
  defaultText?: string;
  /** Missing flag: "--name is required (<required>)". */
  required?: string;
  /** Parsed but not listed in the help (internal plumbing). */
  hidden?: boolean;
}
export type Flag =
  | (Base & { kind: 'bool' })
  | (Base & { kind: 'int' | 'number'; default?: number; min?: number; max?: number })
  | (Base & { kind: 'text' | 'path'; default?: string })
  | (Base & { kind: 'choice'; choices: readonly string[]; default?: string })
  | (Base & { kind: 'list' });
export type Flags = Record<string, Flag>;

type ValueOf<F> = F extends { kind: 'bool' }
  ? boolean
  : F extends { kind: 'int' | 'number'; default: number }
    ? number
    : F extends { kind: 'int' | 'number' }
      ? number | undefined
      : F extends { kind: 'choice'; choices: readonly (infer C)[]; default: string }
        ? C
        : F extends { kind: 'choice'; choices: readonly (infer C)[] }
          ? C | undefined
          : F extends { kind: 'text' | 'path'; default: string }
            ? string
            : F extends { kind: 'text' | 'path'; required: string }
              ? string
              : F extends { kind: 'text' | 'path' }
                ? string | undefined
                : F extends { kind: 'list' }
                  ? string[]
                  : never;
export type Values<T extends Flags> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** Where the user typed the command: root scripts set GANSTUDIO_CWD, as npm runs them elsewhere. */
export function userPath(p: string): string {
  return isAbsolute(p) ? p : resolve(process.env['GANSTUDIO_CWD'] || process.cwd(), p);
}

/** A number flag's value, or one "--flag must be …" line (exit 2). */
export function num(
  flag: string,
  value: string,
  { integer = false, min = -Infinity, max = Infinity } = {},
): number {
  const n = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n)) ||
    n < min ||
    n > max
  ) {
    const range =
      `${min === -Infinity ? '' : `≥ ${min}`}${max === Infinity ? '' : ` ≤ ${max}`}`.trim();
    throw new UserError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got "${value}"`,
      2,
    );
  }
  return n;
}

export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UserError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`, 2);
  return value as T;
}

function convert(name: string, flag: Flag, raw: unknown): unknown {
  if (raw === undefined) {
    if (flag.required) throw new UserError(`--${name} is required (${flag.required})`, 2);
    if (flag.kind === 'bool') return false;
    if (flag.kind === 'list') return [];
    return 'default' in flag ? flag.default : undefined;
  }
  switch (flag.kind) {
    case 'int':
    case 'number':
      return num(name, raw as string, { ...flag, integer: flag.kind === 'int' });
    case 'choice':
      return oneOf(name, raw as string, flag.choices);
    case 'path':
      return userPath(raw as string);
    default:
      return raw;
  }
}

export interface Positionals {
  /** e.g. "<run folder>" */
  usage: string;
  min: number;
  max: number;
  /** The error when the count is wrong. */
  error: string;
}

export interface CommandSpec<T extends Flags> {
  summary: string;
  /** Text between the usage line and the flags. */
  about?: string;
  flags: T;
  positionals?: Positionals;
  run(values: Values<T>, positionals: string[]): Promise<number>;
}

export interface Command {
  summary: string;
  help(name: string): string;
  run(args: string[]): Promise<number>;
}

function format(value: number | string): string {
  return typeof value === 'number' && Math.abs(value) >= 10_000
    ? value.toLocaleString('en-US')
    : String(value);
}

function helpLine(name: string, flag: Flag): [string, string] {
  const metavar =
    flag.kind === 'bool'
      ? ''
      : ` ${flag.metavar ?? (flag.kind === 'choice' ? flag.choices.join('|') : flag.kind === 'int' ? 'N' : flag.kind === 'number' ? 'X' : flag.kind === 'path' ? 'PATH' : 'TEXT')}`;
  const fallback =
    flag.defaultText ??
    ('default' in flag && flag.default !== undefined && flag.default !== Infinity
      ? format(flag.default)
      : undefined);
  return [
    `--${name}${metavar}`,
    flag.help + (fallback === undefined ? '' : ` (default ${fallback})`),
  ];
}

export function defineCommand<const T extends Flags>(spec: CommandSpec<T>): Command {
  return {
    summary: spec.summary,
    help(name) {
      const rows = Object.entries(spec.flags)
        .filter(([, f]) => !f.hidden)
        .map(([n, f]) => helpLine(n, f));
      const width = Math.max(16, ...rows.map(([l]) => l.length + 2));
      const body = rows.map(
        ([left, text]) =>
          `  ${left.padEnd(width)}${text.replace(/\n/g, `\n  ${' '.repeat(width)}`)}`,
      );
      const usage = `usage: ganstudio ${name}${spec.positionals ? ` ${spec.positionals.usage}` : ''} [flags]`;
      return [usage, ...(spec.about ? ['', spec.about] : []), '', ...body].join('\n');
    },
    async run(args) {
      let parsed;
      try {
        parsed = parseArgs({
          args,
          options: Object.fromEntries(
            Object.entries(spec.flags).map(([n, f]) => [
              n,
              f.kind === 'bool'
                ? { type: 'boolean' as const }
                : { type: 'string' as const, multiple: f.kind === 'list' },
            ]),
          ),
          strict: true,
          allowPositionals: Boolean(spec.positionals),
        });
      } catch (err) {
        throw new UserError((err as Error).message.replace(/\. To specify.*$/s, ''), 2);
      }
      const p = spec.positionals;
      if (p && (parsed.positionals.length < p.min || parsed.positionals.length > p.max))
        throw new UserError(p.error, 2);
      const values = Object.fromEntries(
        Object.entries(spec.flags).map(([n, f]) => [
          n,
          convert(n, f, (parsed.values as Record<string, unknown>)[n]),
        ]),
      ) as Values<T>;
      return spec.run(values, parsed.positionals);
    },
  };
}
