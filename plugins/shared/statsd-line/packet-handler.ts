/**
 * What both StatsD inputs do with a packet: parse it into the core's sample batcher, count it the
 * way Etsy does (packets_received, metrics_received, bad_lines_seen), and pass those three counts
 * on as InputCounter samples so the aggregator flushes them as `stats.statsd.*` like Etsy.
 */
import { SampleType, type InputContext } from '../../../core/index.js';
import { StatsdLineParser, type BadLineReason, type StatsdParseOptions, type StatsdSink } from './parse.js';

export class StatsdPacketHandler implements StatsdSink {
  private readonly parser: StatsdLineParser;

  constructor(
    private readonly ctx: InputContext,
    opts: StatsdParseOptions,
  ) {
    this.parser = new StatsdLineParser(opts, this);
  }

  handle(text: string): void {
    const { lines, bad } = this.parser.packet(text);
    const { stats, samples } = this.ctx;
    stats.count('packets_received');
    samples.add('packets_received', SampleType.InputCounter, 1, 1);
    if (lines > 0) {
      stats.addReceived(lines);
      stats.count('metrics_received', lines);
      samples.add('metrics_received', SampleType.InputCounter, lines, 1);
    }
    if (bad > 0) {
      stats.count('bad_lines_seen', bad);
      samples.add('bad_lines_seen', SampleType.InputCounter, bad, 1);
    }
  }

  /**
   * A line the transport refused before parsing (TCP: longer than maxLineBytes): a received line
   * and a bad line, in the counters and in the flushed `statsd.*` series alike.
   */
  refusedLine(reason: 'line_too_long'): void {
    const { stats, samples } = this.ctx;
    stats.addReceived(1);
    stats.count('metrics_received');
    stats.count('bad_lines_seen');
    stats.addDropped(reason);
    samples.add('metrics_received', SampleType.InputCounter, 1, 1);
    samples.add('bad_lines_seen', SampleType.InputCounter, 1, 1);
  }

  sample(key: string, type: SampleType, value: number, rate: number, member?: string): void {
    this.ctx.samples.add(key, type, value, rate, member);
  }

  bad(reason: BadLineReason, line: string): void {
    this.ctx.stats.addDropped(reason);
    this.ctx.log.limited(reason, 'bad StatsD line', { reason, line: line.length > 200 ? `${line.slice(0, 200)}…` : line });
  }
}
