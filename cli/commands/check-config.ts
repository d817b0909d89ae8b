import type { Command } from '../command.js';
import { parseArgs, stringOption } from '../args.js';
import { readConfigFile } from '../../core/config/load.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import { ErrorCode } from '../../core/errors.js';

const command: Command = {
  summary: 'validate a config file without starting anything',
  usage: `Usage: carbonado check-config FILE

Validates FILE (YAML or JSON) against the core's and every plugin's schema, including
third-party plugins it lists, port and directory conflicts, then builds every instance as
start-up does (without opening anything), so that rules a plugin checks across its options are
reported too, and last reads what the options name where a plugin checks it (a whisper store's
storage-schemas/aggregation files, with the warnings start-up would log). Prints "FILE: ok" and
exits 0, or prints the problem (file, instance, JSON path, rule) and exits 1.`,
  async run(argv) {
    const args = parseArgs(argv);
    const file = args.positionals[0] ?? stringOption(args, 'config');
    if (!file) {
      process.stderr.write('carbonado check-config: missing FILE (see --help)\n');
      return 2;
    }
    let runtime: Runtime;
    try {
      // create() does no I/O by contract: building the instances opens nothing
      runtime = await Runtime.create(await readConfigFile(file), { plugins: builtinPlugins, file });
    } catch (err) {
      const e = err as Error & { code?: string };
      // schema problems already name the file; a plugin's own checks name only the instance
      process.stderr.write(`${e.code === ErrorCode.PLUGIN_START ? `${file}: ` : ''}${e.message}\n`);
      return 1;
    }
    // then the checks that read what the options name (a store's rule files)
    let problems = 0;
    for (const { id, manifest, options } of runtime.instancesForCheck()) {
      if (!manifest.check) continue;
      const r = await manifest.check(options);
      for (const w of r.warnings) process.stderr.write(`${file}: ${id}: warning: ${w}\n`);
      for (const p of r.problems) process.stderr.write(`${file}: ${id}: ${p}\n`);
      problems += r.problems.length;
    }
    if (problems > 0) return 1;
    process.stdout.write(`${file}: ok\n`);
    return 0;
  },
};
export default command;
