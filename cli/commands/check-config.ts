import type { Command } from '../command.js';
import { parseArgs, stringOption } from '../args.js';
import { readConfigFile } from '../../core/config/load.js';
import { validateConfig } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';

const command: Command = {
  summary: 'validate a config file without starting anything',
  usage: `Usage: carbonado check-config FILE

Validates FILE (YAML or JSON) against the core's and every plugin's schema, including
third-party plugins it lists, port and directory conflicts. Prints "FILE: ok" and exits 0,
or prints every problem (file, instance, JSON path, rule) and exits 1.`,
  async run(argv) {
    const args = parseArgs(argv);
    const file = args.positionals[0] ?? stringOption(args, 'config');
    if (!file) {
      process.stderr.write('carbonado check-config: missing FILE (see --help)\n');
      return 2;
    }
    try {
      await validateConfig(await readConfigFile(file), { plugins: builtinPlugins, file });
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`${file}: ok\n`);
    return 0;
  },
};
export default command;
