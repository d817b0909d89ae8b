import { stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption } from '../args.js';
import { DEFAULT_CONFIG } from '../package-root.js';
import { readTaggedNamesFile } from '../../plugins/stores/whisper/tagged-files.js';
import { seriesPath } from '../../plugins/stores/whisper/paths.js';
import { listWsp, whisperDataDir } from '../whisper-tree.js';

/** names per POST: carbon's TAG_BATCH_SIZE, well within Django's 1,000 form fields */
const BATCH = 100;

const command: Command = {
  summary: 'register the tagged series of a whisper tree in graphite-web\'s tag database (going back)',
  usage: `Usage: carbonado export-tags [--to URL] [--all] [--config FILE] [--store NAME] [--data-dir DIR]

The tagged series a whisper store creates are named in <dataDir>/_tagged/.carbonado-tagged-names
(their files are named by hash, as carbon names them). graphite-web finds them by tag only once
its tag database knows them, which carbonado's tag writes do not persist: carbon-cache with
ENABLE_TAGS registers a series when it creates its file and then only now and then as points
arrive, so after a move back to carbon + graphite-web, series that receive no new points stay
invisible to seriesByTag and the /tags API. This command lists the names whose files exist
  - on standard output, one per line, without --to;
  - with --to URL, to graphite-web's /tags/tagMultiSeries at URL (its root, e.g.
    http://127.0.0.1:8000), ${BATCH} names a request, as carbon-cache registers them, and prints a
    JSON summary: names, registered, failed (names in requests that failed).
--all lists the untagged series as well (found by walking the tree): carbon with ENABLE_TAGS
registers every series, so that seriesByTag('name=a.b.c') finds plain series too.

The data directory is --data-dir, or the dataDir of the whisper store NAME (default: the store
queries read) in --config FILE (default: CARBONADO_CONFIG, then the embedded config). Run it
after carbonado stopped, or again later: registering a name twice changes nothing.`,
  async run(argv) {
    const args = parseArgs(argv, ['all']);
    const problem = argsProblem(args, { options: ['to', 'data-dir', 'config', 'store'], flags: ['all'] });
    if (problem !== undefined) {
      process.stderr.write(`carbonado export-tags: ${problem} (see --help)\n`);
      return 2;
    }
    try {
      const dataDir = resolve(stringOption(args, 'data-dir') ?? (await whisperDataDir(stringOption(args, 'config') ?? process.env.CARBONADO_CONFIG ?? DEFAULT_CONFIG(), stringOption(args, 'store'), 'export-tags lists the files of a whisper store; give --data-dir for a carbon tree')));
      const names = await existingTaggedNames(dataDir);
      if (args.options.has('all')) names.push(...(await plainSeries(dataDir)));
      const to = stringOption(args, 'to');
      if (to === undefined) {
        process.stdout.write(names.map((n) => `${n}\n`).join(''));
        return 0;
      }
      const summary = await register(to, names);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return summary.failed > 0 ? 1 : 0;
    } catch (err) {
      process.stderr.write(`carbonado export-tags: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
export default command;

/** the names file's names whose hashed file is still there */
async function existingTaggedNames(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readTaggedNamesFile(dataDir)) {
    const path = seriesPath(dataDir, name);
    if (path !== undefined && (await stat(path).catch(() => undefined))?.isFile()) out.push(name);
  }
  return out;
}

/** every `.wsp` outside `_tagged` and carbonado's dot-directories, as its dotted name */
async function plainSeries(dataDir: string): Promise<string[]> {
  const tagged = `_tagged${sep}`;
  return (await listWsp(dataDir))
    .map((p) => relative(dataDir, p))
    .filter((rel) => !rel.startsWith(tagged))
    .map((rel) => rel.slice(0, -4).split(sep).join('.'))
    .sort();
}

async function register(base: string, names: readonly string[]): Promise<{ names: number; registered: number; failed: number }> {
  const url = `${base.replace(/\/+$/, '')}/tags/tagMultiSeries`;
  let registered = 0;
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < names.length; i += BATCH) {
    const batch = names.slice(i, i + BATCH);
    const body = new URLSearchParams(batch.map((n): [string, string] => ['path', n]));
    try {
      const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 200)}`);
      registered += batch.length;
    } catch (err) {
      failed += batch.length;
      firstError ??= (err as Error).message;
    }
  }
  if (firstError !== undefined) process.stderr.write(`carbonado export-tags: ${url}: ${firstError}\n`);
  return { names: names.length, registered, failed };
}
