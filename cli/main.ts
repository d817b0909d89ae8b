import type { Command } from './command.js';
import { commands } from './commands/index.js';
import { packageVersion } from './package-root.js';

const HELP_HEAD = `carbonado — StatsD + Carbon + Whisper + graphite-web in one process

Usage:
  carbonado [--config FILE]          run (default config: the embedded one; env CARBONADO_CONFIG)
  carbonado <command> [options]
  carbonado --help | --version

Commands:`;

/** Dispatches argv to a command; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const lines: string[] = [];
    for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(16)} ${(await load()).default.summary}`);
    process.stdout.write(`${HELP_HEAD}\n${lines.join('\n')}\n`);
    return 0;
  }
  let name = 'run';
  let rest = [...argv];
  if (first !== undefined && !first.startsWith('-')) {
    if (!(first in commands)) {
      process.stderr.write(`carbonado: unknown command "${first}" (see carbonado --help)\n`);
      return 2;
    }
    name = first;
    rest = rest.slice(1);
  }
  const cmd: Command = (await commands[name]!()).default;
  if (rest.includes('--help')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  return cmd.run(rest);
}
