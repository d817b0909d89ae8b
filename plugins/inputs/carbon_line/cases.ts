import type { LineReason } from './line-parser.js';

/**
 * The line catalogue shared by the parser's unit test and the socket tests: carbon's rules
 * (protocols.md §2.1–2.2) and the malformed forms of users-and-reliability.md §6 cases 4, 6 and 7.
 * `want` is the point stored (time 'now' = the clock) or the reason counter that moves; undefined
 * means the line is silently ignored (blank).
 */
export interface LineCase {
  readonly line: string;
  readonly want: { name: string; value: number; time: number | 'now' } | LineReason | undefined;
}

const long = (n: number) => 'x'.repeat(n);

export const LINE_CASES: readonly LineCase[] = [
  { line: 'a.b 1 100', want: { name: 'a.b', value: 1, time: 100 } },
  { line: 'a.b\t2\t100', want: { name: 'a.b', value: 2, time: 100 } },
  { line: 'a.b    3     100', want: { name: 'a.b', value: 3, time: 100 } },
  { line: '  a.b 4 100   ', want: { name: 'a.b', value: 4, time: 100 } },
  { line: 'a.b 5 100\r', want: { name: 'a.b', value: 5, time: 100 } },
  { line: 'a.b 6 100.75', want: { name: 'a.b', value: 6, time: 100.75 } },
  { line: 'a.b 7 -1', want: { name: 'a.b', value: 7, time: 'now' } },
  // carbon compares int(timestamp) with -1
  { line: 'a.b 7 -1.9', want: { name: 'a.b', value: 7, time: 'now' } },
  { line: 'a.b 7 -1.5e0', want: { name: 'a.b', value: 7, time: 'now' } },
  { line: 'a.b 8 4294967296', want: { name: 'a.b', value: 8, time: 4294967296 } },
  { line: 'a.b 1e3 100', want: { name: 'a.b', value: 1000, time: 100 } },
  { line: 'a.b -2.5E-3 100', want: { name: 'a.b', value: -0.0025, time: 100 } },
  { line: 'a.b .5 100', want: { name: 'a.b', value: 0.5, time: 100 } },
  { line: 'a.b 5. 100', want: { name: 'a.b', value: 5, time: 100 } },
  { line: 'a.b +3 100', want: { name: 'a.b', value: 3, time: 100 } },
  { line: 'a.b 1_000 100', want: { name: 'a.b', value: 1000, time: 100 } },
  { line: 'a.b 0.1 100', want: { name: 'a.b', value: 0.1, time: 100 } },
  { line: 'a.b 123456789012345678901234567890 100', want: { name: 'a.b', value: 1.2345678901234568e29, time: 100 } },
  { line: 'a.b inf 100', want: { name: 'a.b', value: Infinity, time: 100 } },
  { line: 'a.b -Infinity 100', want: { name: 'a.b', value: -Infinity, time: 100 } },
  { line: 'a.b 9 1e9', want: { name: 'a.b', value: 9, time: 1e9 } },
  { line: 'ünï.côdé 1 100', want: { name: 'ünï.côdé', value: 1, time: 100 } },
  { line: '%2e%2e.x 1 100', want: { name: '%2e%2e.x', value: 1, time: 100 } },
  { line: 'a;z=1;b=2 1 100', want: { name: 'a;b=2;z=1', value: 1, time: 100 } },
  { line: 'a;b=1;b=2 1 100', want: { name: 'a;b=2', value: 1, time: 100 } },
  { line: 'a;b=x=y 1 100', want: { name: 'a;b=x=y', value: 1, time: 100 } },
  { line: 'm{t="v",a="b"} 1 100', want: { name: 'm;a=b;t=v', value: 1, time: 100 } },
  { line: '', want: undefined },
  { line: '\r', want: undefined },
  { line: '   \t ', want: undefined },
  { line: 'a.b nan 100', want: 'nan_value' },
  { line: 'a.b NaN 100', want: 'nan_value' },
  { line: 'aa bb', want: 'bad_fields' },
  { line: 'a.b 1', want: 'bad_fields' },
  { line: ' 123 455', want: 'bad_fields' },
  { line: 'a b c d', want: 'bad_fields' },
  { line: 'a;b=c d 1 100', want: 'bad_fields' },
  { line: 'aa 123 bar', want: 'bad_timestamp' },
  { line: 'a.b 1 nan', want: 'bad_timestamp' },
  { line: 'a.b 1 inf', want: 'bad_timestamp' },
  { line: 'a.b 0x10 100', want: 'bad_value' },
  { line: 'a.b 1__0 100', want: 'bad_value' },
  { line: 'a.b . 100', want: 'bad_value' },
  { line: 'a.b 1e 100', want: 'bad_value' },
  { line: 'a.b abc 100', want: 'bad_value' },
  { line: 'a..b 1 100', want: 'node_empty' },
  { line: '.a 1 100', want: 'node_empty' },
  { line: 'a. 1 100', want: 'node_empty' },
  { line: '../../etc/passwd 1 100', want: 'node_empty' },
  { line: 'a/b 1 100', want: 'name_bad_char' },
  { line: 'a\\b 1 100', want: 'name_bad_char' },
  { line: 'a\u0000b 1 100', want: 'name_bad_char' },
  { line: 'a\u0007b 1 100', want: 'name_bad_char' },
  { line: `a.${long(300)} 1 100`, want: 'node_too_long' },
  { line: `${Array.from({ length: 500 }, () => 'abcdefghi').join('.')} 1 100`, want: 'name_too_long' },
  { line: 'a;b=c;d= 1 100', want: 'tag_invalid' },
  { line: ';x=y 1 100', want: 'name_empty' },
  { line: 'a;=z 1 100', want: 'tag_invalid' },
  { line: 'a;b 1 100', want: 'tag_invalid' },
  { line: 'a;b=~c 1 100', want: 'tag_invalid' },
  { line: 'a;b!=c 1 100', want: 'tag_invalid' },
  { line: `a.b ${long(17000)} 100`, want: 'line_too_long' },
];
