import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption } from '../args.js';
import { readConfigFile } from '../../core/config/load.js';
import { configWarnings } from '../../core/config/warnings.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { builtinPlugins } from '../../plugins/index.js';
import { ErrorCode } from '../../core/errors.js';

const command: Command = {
  summary: 'validate a config file without starting anything',
  usage: `Usage: carbonado check-config FILE...

Validates each FILE (YAML or JSON) against the core's and every plugin's schema, including
third-party plugins it lists, port and directory conflicts, then builds every instance as
start-up does (without opening anything), so that rules a plugin checks across its options are
reported too, and last reads what the options name where a plugin checks it (a whisper store's
storage-schemas/aggregation files, with the warnings start-up would log). Prints "FILE: ok" for
each good file and the problem (file, instance, JSON path, rule) for each bad one; exits 0 when
every file is ok, 1 otherwise.`,
  async run(argv) {
    const args = parseArgs(argv);
    const problem = argsProblem(args, { options: ['config'], maxPositionals: Infinity });
    if (problem !== undefined) {
      process.stderr.write(`carbonado check-config: ${problem} (see --help)\n`);
      return 2;
    }
    const files = [...args.positionals];
    const viaOption = stringOption(args, 'config');
    if (viaOption !== undefined) files.push(viaOption);
    if (files.length === 0) {
      process.stderr.write('carbonado check-config: missing FILE (see --help)\n');
      return 2;
    }
    let failed = 0;
    // every file is checked, so that `check-config /etc/carbonado/*.yaml` cannot pass a broken one
    for (const file of files) if (!(await checkOne(file))) failed++;
    return failed > 0 ? 1 : 0;
  },
};
export default command;

/** Prints "FILE: ok" or the file's problems; true when it is ok. */
async function checkOne(file: string): Promise<boolean> {
  let runtime: Runtime;
  try {
    // create() does no I/O by contract: building the instances opens nothing
    runtime = await Runtime.create(await readConfigFile(file), { plugins: builtinPlugins, file });
  } catch (err) {
    const e = err as Error & { code?: string };
    // schema problems already name the file; a plugin's own checks name only the instance
    // a refusal per line, each naming the file, as the validation errors do
    const lines = e.code === ErrorCode.PLUGIN_START ? e.message.split('\n').map((l) => `${file}: ${l}`) : [e.message];
    process.stderr.write(`${lines.join('\n')}\n`);
    return false;
  }
  for (const w of configWarnings(runtime.config)) process.stderr.write(`${file}: warning: ${w}\n`);
  // then the checks that read what the options name (a store's rule files)
  let problems = 0;
  for (const { id, manifest, options } of runtime.instancesForCheck()) {
    if (!manifest.check) continue;
    const r = await manifest.check(options);
    for (const w of r.warnings) process.stderr.write(`${file}: ${id}: warning: ${w}\n`);
    for (const p of r.problems) process.stderr.write(`${file}: ${id}: ${p}\n`);
    problems += r.problems.length;
  }
  if (problems > 0) return false;
  process.stdout.write(`${file}: ok\n`);
  return true;
}
