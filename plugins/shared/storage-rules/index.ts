// carbon's storage-schemas.conf / storage-aggregation.conf rules, also usable inline; store-neutral.
export * from './rules.js';
export { parseCarbonRetention, parseCarbonRetentions, parseWhisperRetention, RetentionSyntaxError } from './retention.js';
export { parseIni, IniSyntaxError, type IniSection } from './ini.js';
