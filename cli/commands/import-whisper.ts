import { open, readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { Command } from '../command.js';
import { argsProblem, parseArgs, stringOption, stringOptions } from '../args.js';
import { readConfigFile } from '../../core/config/load.js';
import { Runtime, validateConfig } from '../../core/runtime/runtime.js';
import { isBadName, normalizeSeriesName, pointBatch, writeFileAtomically, type BadName, type SeriesSpec, type StoreInstance } from '../../core/index.js';
import { builtinPlugins } from '../../plugins/index.js';
import { POINT_SIZE, readHeader } from '../../plugins/shared/whisper-format/index.js';
import { readableTaggedName, sha256Hex } from '../../plugins/stores/whisper/tagged-files.js';
import { readTagNameSources } from '../tag-name-sources.js';
import { listWsp } from '../whisper-tree.js';

const command: Command = {
  summary: 'copy an existing Whisper tree into the configured store',
  usage: `Usage: carbonado import-whisper DIR --config FILE [--store NAME] [--state FILE] [--tag-names SOURCE]...

Reads every .wsp file under DIR (a carbon/graphite data directory) and writes its points into the
store NAME of the config (default: the store queries read). Each series keeps its file's
archives, xFilesFactor and aggregation method where the store can define series (sqlite);
otherwise the config's rules apply. Points only a coarser archive still holds are imported from it; the finer
archives' points are imported as they are and the coarser values are rolled up again by the store.
Resumable: files already imported are listed in the state file (default
./carbonado-import-state.json) and skipped when the command runs again. Tagged series whose file
name is a hash (carbon's default) are named from the --tag-names sources: graphite-web's
database (graphite.db, SQLite), a JSON array of names (graphite-web's /tags/findSeries?expr=name!=)
or a text file with one name per line; without a name they are skipped and counted. Stop
carbonado first when it uses the same store.

Prints one JSON line: files, series and points read, files skipped (done, hashed tagged, bad
name), corrupt files, and points_dropped with dropped_by: points the store did not keep. Points
older than the retention the store gives their series (too_old) are named on stderr; any other
drop, or a corrupt file, exits 1.`,
  async run(argv) {
    const args = parseArgs(argv);
    const problem = argsProblem(args, { options: ['config', 'tag-names', 'state', 'store'], maxPositionals: 1 });
    if (problem !== undefined) {
      process.stderr.write(`carbonado import-whisper: ${problem} (see --help)\n`);
      return 2;
    }
    const dir = args.positionals[0];
    const tagSources = stringOptions(args, 'tag-names');
    const file = stringOption(args, 'config');
    if (!dir || !file) {
      process.stderr.write('carbonado import-whisper: DIR and --config FILE are required (see --help)\n');
      return 2;
    }
    const stateFile = stringOption(args, 'state') ?? 'carbonado-import-state.json';
    let runtime: Runtime;
    let taggedNames: string[];
    try {
      // first: a bad source must not start (and stop) a store for nothing
      taggedNames = tagSources.length > 0 ? await readTagNameSources(tagSources) : [];
      const raw = await readConfigFile(file);
      const { config } = await validateConfig(raw, { plugins: builtinPlugins, file });
      const storeName = stringOption(args, 'store') ?? config.query.store ?? Object.keys(config.stores)[0];
      if (!storeName || !(storeName in config.stores)) throw new Error(`${file}: no store named "${storeName ?? ''}"`);
      runtime = await Runtime.create(
        {
          ...(raw as object),
          http: { host: '127.0.0.1', port: 0 },
          selfMetrics: { intervalSecs: 0 },
          log: { level: 'warn' },
          inputs: {},
          aggregators: {},
          outputs: {},
          stores: { [storeName]: config.stores[storeName] },
          query: {},
        },
        { plugins: builtinPlugins, file },
      );
      await runtime.start();
    } catch (err) {
      process.stderr.write(`carbonado import-whisper: ${(err as Error).message}\n`);
      return 1;
    }
    const storeId = `stores.${Object.keys(runtime.config.stores)[0]}`;
    let counts: ImportCounts;
    try {
      counts = await importWhisperTree(runtime, storeId, dir, { stateFile, progress: process.stderr.isTTY, taggedNames });
    } catch (err) {
      await runtime.stop(); // its threads would keep the process alive
      process.stderr.write(`carbonado import-whisper: ${(err as Error).message}\n`);
      return 1;
    }
    const done = counts.done;
    const keepsArchives = typeof runtime.instance<StoreInstance>(storeId)?.defineSeries === 'function';
    await runtime.stop(); // drains the store: every point written before the state is saved
    await writeState(stateFile, done);
    const { done: _d, ...read } = counts;
    // what the store did not keep: the points read are not all imported
    const { dropped, droppedTotal } = runtime.statsSnapshot().instances[storeId]!;
    const { too_old: tooOld = 0, ...failed } = dropped;
    const failedTotal = droppedTotal - tooOld;
    process.stdout.write(`${JSON.stringify({ ...read, points_dropped: droppedTotal, ...(droppedTotal > 0 ? { dropped_by: dropped } : {}) })}\n`);
    if (tooOld > 0) {
      process.stderr.write(
        `carbonado import-whisper: ${tooOld} points are older than the retention the store gives their series and were not stored` +
          `${keepsArchives ? '' : " (this store applies the config's rules, not the files' archives)"}; ` +
          `the files are marked done in ${stateFile}: to import them again with longer rules, remove it\n`,
      );
    }
    if (failedTotal > 0) {
      process.stderr.write(
        `carbonado import-whisper: ${failedTotal} points could not be stored (${Object.entries(failed).map(([k, n]) => `${k}: ${n}`).join(', ')}); ` +
          `the files are marked done in ${stateFile}: remove it and run again (points already stored are rewritten unchanged)\n`,
      );
    }
    return counts.corrupt > 0 || failedTotal > 0 ? 1 : 0;
  },
};
export default command;


export interface ImportCounts {
  files: number;
  series: number;
  points: number;
  skipped_done: number;
  skipped_hashed_tagged: number;
  skipped_bad_name: number;
  corrupt: number;
  done: Set<string>;
}

/**
 * Imports every .wsp file under `dir` into the store `storeId` of a started runtime. Each series
 * keeps its file's archives, xFilesFactor and method when the store can define series
 * (`defineSeries`); otherwise the store's rules apply. The store is not drained here: stop the
 * runtime before trusting the state file.
 */
export async function importWhisperTree(runtime: Runtime, storeId: string, dir: string, opts: { stateFile?: string; progress?: boolean; taggedNames?: readonly string[] } = {}): Promise<ImportCounts> {
  const store = runtime.instance<StoreInstance>(storeId);
  if (!store) throw new Error(`no store ${storeId}`);
  // honour the store's back-pressure: wait while it is over its high-water mark
  const pressured = new Set<string>();
  const onPressure = (p: { source: string; active: boolean }) => (p.active ? pressured.add(p.source) : pressured.delete(p.source));
  runtime.services.bus.on('pressure', onPressure);
  const done = new Set<string>(opts.stateFile ? await readState(opts.stateFile) : []);
  const files = await listWsp(dir);
  const byHash = new Map((opts.taggedNames ?? []).map((n) => [sha256Hex(n), n]));
  const counts: ImportCounts = { files: files.length, series: 0, points: 0, skipped_done: 0, skipped_hashed_tagged: 0, skipped_bad_name: 0, corrupt: 0, done };
  let sinceSave = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      const rel = relative(dir, files[i]!);
      // a hashed file is done once imported under its name (versions before --tag-names marked
      // it done when they skipped it)
      const key = isHashedTaggedFile(rel) ? `${rel}#named` : rel;
      if (done.has(key)) {
        counts.skipped_done++;
        continue;
      }
      const name = seriesNameOf(rel, byHash);
      if (name === 'hashed') {
        // not done: a later run with --tag-names may name it
        counts.skipped_hashed_tagged++;
        continue;
      } else if (isBadName(name)) {
        // carbon stores such a name (a pickle can carry a space); no carbonado input accepts it
        counts.skipped_bad_name++;
        process.stderr.write(`\n${rel}: skipped: not a series name carbonado accepts (${name.detail})\n`);
      } else {
        try {
          const { spec, points } = await readAllPoints(files[i]!, Math.trunc(runtime.services.clock()));
          store.defineSeries?.(name, spec);
          if (points.length) runtime.services.bus.emit('points', pointBatch(points.map(([t, v]) => [name, v, t])), 'import');
          counts.series++;
          counts.points += points.length;
          while (pressured.size > 0) await new Promise((r) => setTimeout(r, 20));
        } catch (err) {
          counts.corrupt++;
          process.stderr.write(`\n${rel}: skipped: ${(err as Error).message}\n`);
          continue;
        }
      }
      done.add(key);
      if (opts.stateFile && ++sinceSave >= 200) {
        await writeState(opts.stateFile, done);
        sinceSave = 0;
      }
      if (opts.progress && (i % 50 === 0 || i === files.length - 1)) progress(i + 1, files.length, counts.points);
    }
  } finally {
    runtime.services.bus.off('pressure', onPressure);
  }
  if (opts.progress) process.stderr.write('\n');
  return counts;
}

function isHashedTaggedFile(rel: string): boolean {
  const parts = rel.split(sep);
  return parts.length === 4 && parts[0] === '_tagged' && /^[0-9a-f]{64}\.wsp$/.test(parts[3]!);
}

/**
 * `a/b/c.wsp` → `a.b.c`; carbon's `_tagged/x/y/<name with . as _DOT_>.wsp` → the tagged name;
 * `_tagged/x/y/<sha256>.wsp` → the name with that hash in `byHash`, or 'hashed'.
 */
export function seriesNameOf(rel: string, byHash?: ReadonlyMap<string, string>): string | 'hashed' | BadName {
  const parts = rel.slice(0, -4).split(sep);
  let raw: string;
  if (parts[0] === '_tagged' && parts.length === 4) {
    if (/^[0-9a-f]{64}$/.test(parts[3]!)) {
      const named = byHash?.get(parts[3]!);
      if (named === undefined) return 'hashed';
      raw = named;
    } else {
      // the reading of its `_DOT_`s that the directories' hash confirms; else all of them as dots
      raw = readableTaggedName(`_tagged.${parts[1]}.${parts[2]}.`, parts[3]!) ?? parts[3]!.replace(/_DOT_/g, '.');
    }
  } else raw = parts.join('.');
  return normalizeSeriesName(raw);
}

/**
 * Every point the file still holds: all of the finest archive's current lap, and from each
 * coarser archive only the points older than the next finer archive's retention (the rest is
 * rolled up again from the finer points by the store).
 */
async function readAllPoints(path: string, now: number): Promise<{ spec: SeriesSpec; points: Array<[number, number]> }> {
  const fh = await open(path, 'r');
  try {
    const h = await readHeader(fh, path);
    const spec: SeriesSpec = { archives: h.archives.map((a) => [a.secondsPerPoint, a.points] as const), xFilesFactor: h.xFilesFactor, aggregationMethod: h.aggregationMethod };
    const out: Array<[number, number]> = [];
    for (let ai = h.archives.length - 1; ai >= 0; ai--) {
      const a = h.archives[ai]!;
      const buf = Buffer.alloc(a.size);
      await fh.read(buf, 0, a.size, a.offset);
      const finer = ai > 0 ? h.archives[ai - 1]!.retention : -Infinity;
      for (let k = 0; k < a.points; k++) {
        const t = buf.readUInt32BE(k * POINT_SIZE);
        if (t === 0) continue;
        const age = now - t;
        if (age > a.retention || (ai > 0 && age <= finer)) continue;
        out.push([t, buf.readDoubleBE(k * POINT_SIZE + 4)]);
      }
    }
    return { spec, points: out };
  } finally {
    await fh.close();
  }
}

async function readState(file: string): Promise<string[]> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { done: string[] }).done;
  } catch {
    return [];
  }
}

async function writeState(file: string, done: Set<string>): Promise<void> {
  await writeFileAtomically(file, JSON.stringify({ done: [...done] }));
}

function progress(i: number, n: number, points: number): void {
  const width = 30;
  const fill = Math.round((width * i) / n);
  process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${i}/${n} files, ${points} points`);
}
