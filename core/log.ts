export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogSink {
  write(line: string): void;
}

/**
 * A small structured logger. Text lines by default (`time level id: message key=value`),
 * JSON lines with format 'json'. Data-path problems use `limited`, which logs the first
 * occurrence of a key and then at most once per interval with the number suppressed.
 */
export class Logger {
  private readonly limits: Map<string, { until: number; suppressed: number }>;

  constructor(
    readonly id: string,
    private readonly level: LogLevel = 'info',
    private readonly format: 'text' | 'json' = 'text',
    private readonly sink: LogSink = process.stderr,
    private readonly limitMs = 10_000,
    limits?: Map<string, { until: number; suppressed: number }>,
  ) {
    this.limits = limits ?? new Map();
  }

  child(id: string): Logger {
    return new Logger(id, this.level, this.format, this.sink, this.limitMs, this.limits);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }

  /** Rate-limited warning for data-path problems; `key` groups the occurrences (e.g. a reason). */
  limited(key: string, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled('warn')) return;
    const k = `${this.id}\u0000${key}`;
    const now = Date.now();
    const st = this.limits.get(k);
    if (st && now < st.until) {
      st.suppressed++;
      return;
    }
    const suppressed = st?.suppressed ?? 0;
    this.limits.set(k, { until: now + this.limitMs, suppressed: 0 });
    this.log('warn', msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }

  private log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    if (this.format === 'json') {
      this.sink.write(`${JSON.stringify({ time, level, id: this.id, msg, ...fields })}\n`);
      return;
    }
    let line = `${time} ${level} ${this.id}: ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
        line += ` ${k}=${/[\s"=]/.test(s ?? '') ? JSON.stringify(s) : s}`;
      }
    }
    this.sink.write(`${line}\n`);
  }
}
