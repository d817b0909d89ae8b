// The StatsD line parser shared by statsd_udp and statsd_tcp (not a plugin itself).
export { StatsdLineParser, parseRate, resolveKey, sanitizeKey, type BadLineReason, type PacketCounts, type StatsdParseOptions, type StatsdSink } from './parse.js';
export { StatsdPacketHandler } from './packet-handler.js';
export { statsdParseSchemaProperties } from './schema.js';
