/** Minimal argv parsing: `--key value`, `--key=value`, `--flag`, positionals. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (flags.includes(a.slice(2)) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) options.set(a.slice(2), true);
      else options.set(a.slice(2), argv[++i]!);
    } else if (a.startsWith('-') && a.length === 2) {
      options.set(a.slice(1), true);
    } else positionals.push(a);
  }
  return { positionals, options };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
