/** Minimal argv parsing: `--key value`, `--key=value`, `--flag`, positionals. */
export interface ParsedArgs {
  readonly positionals: string[];
  /** the last value of each option */
  readonly options: Map<string, string | true>;
  /** every value of each option given more than once or once (`--x a --x b`) */
  readonly repeated: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  const set = (k: string, v: string | true) => {
    options.set(k, v);
    if (typeof v === 'string') repeated.set(k, [...(repeated.get(k) ?? []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) set(a.slice(2, eq), a.slice(eq + 1));
      else if (flags.includes(a.slice(2)) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) set(a.slice(2), true);
      else set(a.slice(2), argv[++i]!);
    } else if (a.startsWith('-') && a.length === 2) {
      options.set(a.slice(1), true);
    } else positionals.push(a);
  }
  return { positionals, options, repeated };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function stringOptions(args: ParsedArgs, name: string): string[] {
  return args.repeated.get(name) ?? [];
}

export interface ArgsSpec {
  /** options that take a value (`--config FILE`) */
  readonly options: readonly string[];
  /** options that take none (`--follow`); pass the same list to parseArgs */
  readonly flags?: readonly string[];
  /** most positional arguments the command takes (default none) */
  readonly maxPositionals?: number;
}

/**
 * What is wrong with the arguments for a command, or undefined. A misspelt option or a forgotten
 * value must not be ignored: `carbonado --conifg hub.yaml` or `--config $UNSET` once started the
 * embedded default config, listening on every interface.
 */
export function argsProblem(args: ParsedArgs, spec: ArgsSpec): string | undefined {
  for (const [k, v] of args.options) {
    const spelled = k.length === 1 ? `-${k}` : `--${k}`;
    if (spec.flags?.includes(k)) continue;
    if (!spec.options.includes(k)) return `unknown option ${spelled}`;
    if (v === true) return `${spelled} needs a value`;
  }
  const extra = args.positionals.slice(spec.maxPositionals ?? 0);
  if (extra.length > 0) return `unexpected argument ${JSON.stringify(extra[0])}`;
  return undefined;
}
