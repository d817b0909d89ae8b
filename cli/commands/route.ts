import { createInterface } from 'node:readline';
import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption } from '../args.js';
import { readConfigFile } from '../../core/config/load.js';
import { validateConfig } from '../../core/runtime/runtime.js';
import { isBadName, normalizeSeriesName } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { Router } from '../../plugins/stores/carbon_relay/router.js';
import type { CarbonRelayOptions } from '../../plugins/stores/carbon_relay/options.js';

const command: Command = {
  summary: 'print where a carbon_relay store would send series names',
  usage: `Usage: carbonado route --config FILE [--store NAME] [SERIES...]

For each series name (from the arguments, else one per line on stdin) prints the destinations
the configured carbon_relay store would send it to, in ring order:

  NAME -> host:port[,host:port]

A name a rule drops prints "NAME -> (dropped by rule)", one no rule sends anywhere
"NAME -> (no route)", an invalid one "NAME -> (invalid: reason)". Names are put in canonical
form first (tags sorted), as the relay sees them. With several carbon_relay stores, --store
picks one. Like carbon-c-relay -t: check placement before switching relays.`,
  async run(argv) {
    const args = parseArgs(argv);
    const problem = argsProblem(args, { options: ['config', 'store'], maxPositionals: Infinity });
    if (problem !== undefined) {
      process.stderr.write(`carbonado route: ${problem} (see --help)\n`);
      return 2;
    }
    const file = stringOption(args, 'config');
    if (!file) {
      process.stderr.write('carbonado route: missing --config FILE (see --help)\n');
      return 2;
    }
    let router: Router;
    try {
      const { config } = await validateConfig(await readConfigFile(file), { plugins: builtinPlugins, file });
      const relays = Object.entries(config.stores).filter(([, s]) => s.type === 'carbon_relay');
      const wanted = stringOption(args, 'store');
      const chosen = wanted ? relays.filter(([n]) => n === wanted) : relays;
      if (chosen.length !== 1) {
        const names = relays.map(([n]) => n).join(', ') || 'none';
        throw new Error(
          wanted ? `no carbon_relay store named "${wanted}" (carbon_relay stores: ${names})` : relays.length === 0 ? `${file}: no carbon_relay store configured` : `several carbon_relay stores (${names}): pick one with --store NAME`,
        );
      }
      router = new Router(chosen[0]![1] as unknown as CarbonRelayOptions);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    const line = (raw: string): string => {
      const name = normalizeSeriesName(raw);
      if (isBadName(name)) return `${raw} -> (invalid: ${name.detail})\n`;
      const where = router.route(name);
      if (where === 'rule_drop') return `${name} -> (dropped by rule)\n`;
      if (where === 'no_route') return `${name} -> (no route)\n`;
      return `${name} -> ${where.map((j) => `${router.members[j]!.host}:${router.members[j]!.port}`).join(',')}\n`;
    };
    if (args.positionals.length > 0) {
      process.stdout.write(args.positionals.map(line).join(''));
      return 0;
    }
    let out = '';
    for await (const l of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      const name = l.trim().split(/\s+/)[0];
      if (!name) continue;
      out += line(name);
      if (out.length > 65536) {
        if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
        out = '';
      }
    }
    process.stdout.write(out);
    return 0;
  },
};
export default command;
