import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption } from '../args.js';
import { DEFAULT_CONFIG } from '../package-root.js';
import { importTaggedNames } from '../../plugins/stores/whisper/tagged-files.js';
import { readTagNameSources } from '../tag-name-sources.js';
import { whisperDataDir } from '../whisper-tree.js';

const command: Command = {
  summary: 'name the tagged series of a carbon data directory from graphite-web\'s tag database',
  usage: `Usage: carbonado import-tags SOURCE... [--config FILE] [--store NAME] [--data-dir DIR]

carbon stores a tagged series (name;tag=value) in a file named after the sha256 of its name, and
graphite-web keeps the names in its tag database. A whisper store pointed at such a data
directory reads those files by name only once it knows the names: until then seriesByTag and
the /tags API do not find series that receive no new points. This command gives the store the
names from a SOURCE, each of which may be
  - graphite-web's database, when its tag database is the default local one
    (SQLite, e.g. /var/lib/graphite/graphite.db);
  - a JSON array of names, such as graphite-web's answer to /tags/findSeries?expr=name!=
    (for a Redis, MySQL or PostgreSQL tag database);
  - a text file with one name per line.
The names whose files exist are appended to <dataDir>/_tagged/.carbonado-tagged-names. The
store reads that file when it starts and on SIGHUP. Files carbon named after the series itself
(TAG_HASH_FILENAMES = False) need no import: the store finds them alone.

The data directory is --data-dir, or the dataDir of the whisper store NAME (default: the store
queries read) in --config FILE (default: CARBONADO_CONFIG, then the embedded config). Names are
put in the form carbon hashes first (tags sorted, as in graphite-web's database). Prints a
JSON summary: names read, added, known (already listed), readable_file, no_file, untagged (series
without tags, found by their paths anyway), bad_name.`,
  async run(argv) {
    const args = parseArgs(argv);
    const problem = argsProblem(args, { options: ['data-dir', 'config', 'store'], maxPositionals: Infinity });
    if (problem !== undefined) {
      process.stderr.write(`carbonado import-tags: ${problem} (see --help)\n`);
      return 2;
    }
    if (args.positionals.length === 0) {
      process.stderr.write('carbonado import-tags: at least one SOURCE is required (see --help)\n');
      return 2;
    }
    let dataDir = stringOption(args, 'data-dir');
    try {
      dataDir ??= await whisperDataDir(stringOption(args, 'config') ?? process.env.CARBONADO_CONFIG ?? DEFAULT_CONFIG(), stringOption(args, 'store'), 'import-whisper --tag-names names hashed files for other stores');
      const names = await readTagNameSources(args.positionals);
      const counts = await importTaggedNames(resolve(dataDir), names);
      process.stdout.write(`${JSON.stringify(counts)}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`carbonado import-tags: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
export default command;
