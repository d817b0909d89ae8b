/** A rule an operator adds in config: a regex with named groups → one sample per matching line. */
export interface LogRuleOptions {
  /** a short label, used in stats (`rule_hits.<name>`) and error messages */
  name: string;
  /** JavaScript regular expression, matched against the whole line (ANSI colours already stripped) */
  pattern: string;
  /** metric name; `{group}` is replaced by the named group's text (sanitised to a path node) */
  metric: string;
  type: 'counter' | 'timer' | 'gauge' | 'set';
  /** named group holding the value (set: the member); empty: 1 for counters, refused for others */
  valueGroup: string;
  /** the value is multiplied by this (e.g. 1000 to turn seconds into the milliseconds timers expect) */
  scale: number;
}

export interface LogTailOptions {
  /** log files to follow (absolute, or relative to the working directory) */
  files: string[];
  /** where to begin in a file with no remembered offset */
  startAt: 'end' | 'beginning';
  /** JSON file holding each file's identity and offset across restarts; empty disables it */
  stateFile: string;
  /** how often the offsets are written to stateFile (only when they changed) */
  stateFlushIntervalMs: number;
  /** poll period: catches rotation, truncation and writes that fs.watch misses (network filesystems) */
  pollIntervalMs: number;
  /** longest line kept; longer ones are dropped and counted (`dropped_by.line_too_long`) */
  maxLineBytes: number;
  /** built-in rule sets applied to every line */
  ruleSets: Array<'jupyterhub'>;
  /** first node(s) of the names the built-in rule sets produce */
  prefix: string;
  /** operator rules, applied after the rule sets; every rule that matches emits */
  rules: LogRuleOptions[];
}
