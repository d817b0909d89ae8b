import { SampleType } from '../../../core/index.js';
import type { LogRuleOptions } from './options.js';

/** Where a rule sends one sample; the caller validates the name and counts refusals. */
export type Emit = (name: string, type: SampleType, value: number, member?: string) => void;

/**
 * What a line turned out to be. `continuation` lines belong to a multi-line record (a traceback,
 * the JSON header block JupyterHub logs before a 5xx line): skipped, counted apart from garbage.
 */
export type LineOutcome = 'matched' | 'continuation' | 'unmatched';

/**
 * A built-in rule set. One instance per followed file, because continuation tracking is per
 * stream: the line after a multi-line block's header belongs to that block only within one file.
 */
export interface RuleSet {
  apply(line: string, emit: Emit): LineOutcome;
}

// CSI sequences (colours: ESC [ 31 m) and charset selections (ESC ( B, which curses' sgr0 emits).
const ANSI = /\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z])/g;

/** Removes ANSI colour/escape sequences (JupyterHub colours the log header when stderr is a TTY). */
export function stripAnsi(line: string): string {
  return line.indexOf('\x1b') < 0 ? line : line.replace(ANSI, '');
}

/** One text piece of a path node: anything outside [A-Za-z0-9_-] becomes `_` (dots would add nodes). */
export function toNode(text: string | undefined): string {
  if (text === undefined || text.length === 0) return 'none';
  const s = text.length > 100 ? text.slice(0, 100) : text;
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

const TYPE_OF = { counter: SampleType.Counter, timer: SampleType.Timer, gauge: SampleType.Gauge, set: SampleType.Set } as const;

/** An operator rule, compiled once in `create` so that a bad regex fails the config, not the data path. */
export class CompiledRule {
  readonly name: string;
  private readonly re: RegExp;
  /** template split on placeholders: even indexes are literal text, odd ones group names */
  private readonly parts: string[];
  private readonly type: SampleType;
  private readonly valueGroup: string;
  private readonly scale: number;

  constructor(o: LogRuleOptions) {
    this.name = o.name;
    try {
      this.re = new RegExp(o.pattern);
    } catch (err) {
      throw new Error(`rule "${o.name}": invalid pattern: ${(err as Error).message}`);
    }
    // An alternation with the empty string always matches, which lists every named group.
    const groups = new Set(Object.keys(new RegExp(`(?:${o.pattern})|`).exec('')?.groups ?? {}));
    this.parts = o.metric.split(/\{([A-Za-z_][A-Za-z0-9_]*)\}/);
    for (let i = 1; i < this.parts.length; i += 2) {
      if (!groups.has(this.parts[i]!)) throw new Error(`rule "${o.name}": metric template uses {${this.parts[i]}} but the pattern has no such named group`);
    }
    if (o.valueGroup !== '' && !groups.has(o.valueGroup)) throw new Error(`rule "${o.name}": valueGroup "${o.valueGroup}" is not a named group of the pattern`);
    if (o.valueGroup === '' && o.type !== 'counter') throw new Error(`rule "${o.name}": type ${o.type} needs a valueGroup`);
    this.type = TYPE_OF[o.type];
    this.valueGroup = o.valueGroup;
    this.scale = o.scale;
  }

  /** Emits at most one sample; returns whether the line matched. A bad value is reported, not thrown. */
  apply(line: string, emit: Emit, onBadValue: (rule: string) => void): boolean {
    const m = this.re.exec(line);
    if (m === null) return false;
    const g = m.groups ?? {};
    let name = this.parts[0]!;
    for (let i = 1; i < this.parts.length; i += 2) name += toNode(g[this.parts[i]!]) + this.parts[i + 1]!;
    if (this.type === SampleType.Set) {
      emit(name, this.type, 0, g[this.valueGroup] ?? '');
      return true;
    }
    let value = 1;
    if (this.valueGroup !== '') {
      const raw = g[this.valueGroup];
      value = raw === undefined || raw.trim() === '' ? NaN : Number(raw) * this.scale;
      if (!Number.isFinite(value) || (this.type === SampleType.Timer && value < 0)) {
        onBadValue(this.name);
        return true;
      }
    }
    emit(name, this.type, value);
    return true;
  }
}
