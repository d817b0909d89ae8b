import { isBadName, normalizeSeriesName, type InstanceStats, type Logger, type SampleType } from '../../../core/index.js';
import { stripAnsi, type CompiledRule, type Emit, type RuleSet } from './rules.js';

/** Where accepted samples go: the core's SampleBatcher in production, an array in unit tests. */
export interface SampleSink {
  add(name: string, type: SampleType, value: number, rate: number, member?: string): void;
}

/**
 * Turns one file's lines into samples: strips colours, runs the built-in rule sets and then the
 * operator rules, validates every produced name, and counts what it sees. Never throws for data.
 */
export class LineProcessor {
  private readonly emit: Emit;

  constructor(
    private readonly ruleSets: readonly RuleSet[],
    private readonly rules: readonly CompiledRule[],
    sink: SampleSink,
    private readonly stats: InstanceStats,
    private readonly log: Logger,
  ) {
    this.emit = (name, type, value, member) => {
      const n = normalizeSeriesName(name);
      if (isBadName(n)) {
        this.stats.addDropped(n.bad);
        this.log.limited(`bad_name.${n.bad}`, 'log rule produced an invalid metric name', { name, reason: n.detail });
        return;
      }
      sink.add(n, type, value, 1, member);
    };
  }

  /** `raw` is one line without its newline. */
  line(raw: string): void {
    let line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line.length === 0) return;
    line = stripAnsi(line);
    this.stats.addReceived(1);
    let matched = false;
    let continuation = false;
    for (const rs of this.ruleSets) {
      const o = rs.apply(line, this.emit);
      if (o === 'matched') matched = true;
      else if (o === 'continuation') continuation = true;
    }
    for (const r of this.rules) {
      if (r.apply(line, this.emit, this.badValue)) {
        matched = true;
        this.stats.count(`rule_hits.${r.name}`);
      }
    }
    if (matched) return;
    // Counted, never logged one by one: a log full of unknown lines must not flood our own log.
    this.stats.count(continuation ? 'lines_continuation' : 'lines_unmatched');
  }

  private readonly badValue = (rule: string): void => {
    this.stats.addDropped('bad_value');
    this.log.limited(`bad_value.${rule}`, 'log rule matched but its value group is not a usable number', { rule });
  };
}
