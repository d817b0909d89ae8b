import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { checkMetricPath, type InputContext, type InputInstance } from '../../../core/index.js';
import { FileFollower } from './follower.js';
import { JupyterhubRules } from './jupyterhub-rules.js';
import { LineProcessor } from './line-processor.js';
import { loadOffsets, saveOffsets, type SavedOffset } from './offsets.js';
import type { LogTailOptions } from './options.js';
import { CompiledRule, type RuleSet } from './rules.js';

/** One followed file: its follower, and the serialisation of its polls. */
interface Tracked {
  readonly follower: FileFollower;
  running: Promise<void> | undefined;
  again: boolean;
}

/**
 * The log_tail input: follows files, turns lines into StatsD samples through rule sets, and
 * remembers offsets. Reads are driven by fs.watch on each file's directory (cheap, immediate) and
 * by a poll timer (rotation checks, and filesystems where watch events never come).
 */
export class LogTail implements InputInstance {
  private readonly rules: CompiledRule[];
  private readonly files: string[];
  private readonly stateFile: string;
  private tracked: Tracked[] = [];
  private watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private lastSaved = '';
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly ctx: InputContext,
    private readonly o: Readonly<LogTailOptions>,
  ) {
    if (o.files.length === 0) throw new Error('log_tail needs at least one entry in files');
    const bad = o.prefix === '' ? undefined : checkMetricPath(o.prefix);
    if (bad) throw new Error(`prefix "${o.prefix}" is not a valid metric path: ${bad.detail}`);
    // Compiling here makes a bad operator regex a config error, reported before anything starts.
    this.rules = o.rules.map((r) => new CompiledRule(r));
    this.files = [...new Set(o.files.map((f) => resolve(f)))];
    this.stateFile = o.stateFile === '' ? '' : resolve(o.stateFile);
  }

  async start(): Promise<void> {
    this.stopped = false;
    const saved =
      this.stateFile === ''
        ? new Map<string, SavedOffset>()
        : await loadOffsets(this.stateFile, (why) => {
            this.ctx.stats.addError('state_file');
            this.ctx.log.warn('offsets state file unreadable; starting as configured', { path: this.stateFile, error: why });
          });
    this.tracked = this.files.map((path) => {
      const ruleSets: RuleSet[] = this.o.ruleSets.map(() => new JupyterhubRules(this.o.prefix));
      const proc = new LineProcessor(ruleSets, this.rules, this.ctx.samples, this.ctx.stats, this.ctx.log);
      const follower = new FileFollower(
        path,
        // A rotated-away file still gets late writes for a moment; five polls (at least 5 s) later
        // it is released, so a deleted log does not stay open.
        { startAt: this.o.startAt, maxLineBytes: this.o.maxLineBytes, releaseDeletedMs: Math.max(5000, 5 * this.o.pollIntervalMs) },
        saved.get(path),
        (line) => proc.line(line),
        this.ctx.stats,
        this.ctx.log,
      );
      return { follower, running: undefined, again: false };
    });
    // The first poll positions every file (remembered offset or startAt) before start resolves,
    // so lines written after start are never mistaken for history.
    await Promise.all(this.tracked.map((t) => this.kick(t)));
    this.watchDirectories();
    this.pollTimer = setInterval(() => {
      for (const t of this.tracked) void this.kick(t);
    }, this.o.pollIntervalMs);
    this.pollTimer.unref();
    if (this.stateFile !== '') {
      this.stateTimer = setInterval(() => void this.saveState(), this.o.stateFlushIntervalMs);
      this.stateTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.stateTimer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    // One last read, so that lines written before the stop are counted once, now.
    await Promise.all(this.tracked.map((t) => this.kick(t, true)));
    this.ctx.samples.flush();
    await this.saveState();
    await Promise.all(this.tracked.map((t) => t.follower.close()));
    this.tracked = [];
  }

  stats(): Record<string, number> {
    return { files: this.tracked.length };
  }

  /** Runs a poll of one file, or asks the running one to go again (polls never overlap). */
  private kick(t: Tracked, final = false): Promise<void> {
    if (this.stopped && !final) return Promise.resolve();
    if (t.running !== undefined) {
      t.again = true;
      return t.running;
    }
    t.running = (async () => {
      do {
        t.again = false;
        await t.follower.poll();
      } while (t.again);
      t.running = undefined;
    })();
    return t.running;
  }

  private watchDirectories(): void {
    const byDir = new Map<string, Map<string, Tracked>>();
    for (const t of this.tracked) {
      const dir = dirname(t.follower.path);
      let m = byDir.get(dir);
      if (m === undefined) byDir.set(dir, (m = new Map()));
      m.set(basename(t.follower.path), t);
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          // No filename (some platforms): any change in the directory may concern every file.
          if (filename === null) for (const t of names.values()) void this.kick(t);
          else {
            const t = names.get(filename.toString());
            if (t !== undefined) void this.kick(t);
          }
        });
        w.on('error', (err) => {
          this.ctx.log.debug('directory watch failed; polling only', { dir, error: err });
          w.close();
        });
        this.watchers.push(w);
      } catch (err) {
        // A missing directory or an exhausted inotify limit: the poll timer still covers it.
        this.ctx.log.debug('cannot watch directory; polling only', { dir, error: err as Error });
      }
    }
  }

  private saveState(): Promise<void> {
    if (this.stateFile === '') return Promise.resolve();
    this.saving = this.saving.then(async () => {
      const offsets = new Map<string, SavedOffset>();
      for (const t of this.tracked) {
        const p = t.follower.position();
        if (p !== undefined) offsets.set(t.follower.path, p);
      }
      const text = JSON.stringify([...offsets]);
      if (text === this.lastSaved) return;
      try {
        await saveOffsets(this.stateFile, offsets);
        this.lastSaved = text;
      } catch (err) {
        this.ctx.stats.addError('state_file');
        this.ctx.log.limited('state_file', 'cannot write offsets state file', { path: this.stateFile, error: err as Error });
      }
    });
    return this.saving;
  }
}
