/**
 * Python `re` pattern syntax → a JavaScript RegExp source and flags. Graphite users write Python
 * regexes (carbon's storage rules, graphite-web's aliasSub/grep/exclude...), and JavaScript reads
 * some of Python's syntax differently without an error (`{,3}` is literal text there, `\N{...}` the
 * letter N): such patterns must be translated or refused, never run with another meaning.
 */

export class PythonRegexError extends Error {}

export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

/**
 * Translates `(?P<n>…)`, `(?P=n)`, `\A`, `\Z`, `{,n}`, `(?#comments)`, leading global flags
 * (`(?i)`, `(?m)`, `(?s)`, `(?a)`; `(?u)` and `(?L)` change nothing here; `(?x)` strips the
 * verbose whitespace and comments), and Python's Unicode classes: the result has the `u` flag, so
 * `.` is one character even beyond U+FFFF, and `\w`, `\d`, `\b` cover every script as in Python
 * (ASCII only under `(?a)`). Escapes and literals JavaScript's `u` mode is strict about are
 * rewritten (`\:` is `:`, a lone `{` or `]` is escaped, `\012` is octal). Refuses what JavaScript
 * (Node 20) cannot express: scoped flags `(?i:…)`, flags after the start, `\N{name}`,
 * conditionals `(?(1)…)`; and unknown letter escapes, as Python does. `\W` inside a class stays
 * ASCII (u mode has no negated Unicode class inside a class).
 */
export function translatePythonRegex(pattern: string): TranslatedRegex {
  let src = pattern;
  let flags = '';
  let verbose = false;
  let ascii = false;
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(src); m; m = /^\(\?([aiLmsux]+)\)/.exec(src)) {
    src = src.slice(m[0].length);
    for (const f of m[1]!) {
      if (f === 'x') verbose = true;
      else if (f === 'a') ascii = true;
      else if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    }
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      if (src[i + 1] === undefined) throw new PythonRegexError('a pattern may not end with a backslash');
      const e = translateEscape(src, i + 1, inClass, ascii);
      out += e.text;
      i += e.length;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    // Python's verbose mode: whitespace outside classes and escapes is ignored, `#` starts a comment
    if (verbose && /\s/.test(c)) continue;
    if (verbose && c === '#') {
      const nl = src.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // a ']' right after '[' or '[^' is a literal in Python; JavaScript reads `[]` as an empty class
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      if (rest.startsWith('#')) {
        const close = src.indexOf(')', i);
        if (close < 0) throw new PythonRegexError('unterminated comment (?#...');
        i = close;
        continue;
      }
      let m = /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (m) {
        out += `(?<${m[1]}>`;
        i += 1 + m[0].length;
        continue;
      }
      m = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (m) {
        out += `\\k<${m[1]}>`;
        i += 1 + m[0].length;
        continue;
      }
      if (/^[aiLmsux-]+[:)]/.test(rest)) throw new PythonRegexError('inline flags are only supported at the start of the pattern, e.g. (?i)^servers\\.');
      if (rest.startsWith('(')) throw new PythonRegexError('conditional groups (?(id)yes|no) are not supported');
    }
    if (c === '.' && !flags.includes('s')) {
      // Python's `.` stops only at \n; JavaScript's also at \r, U+2028 and U+2029
      out += '[^\\n]';
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d*)(,(\d*))?\}/.exec(src.slice(i));
      if (m && m[1] === '' && m[2] !== undefined) {
        // Python: {,n} is {0,n} (and {,} is {0,}); JavaScript would match the text "{,n}"
        out += `{0,${m[3]}}`;
        i += m[0].length - 1;
        continue;
      }
      if (m && m[1] !== '') {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
      // not a repeat: Python reads the brace as text, JavaScript's u mode refuses it
      out += '\\{';
      continue;
    }
    if (c === '}' || c === ']') {
      out += `\\${c}`;
      continue;
    }
    out += c;
  }
  return { source: out, flags: `${flags}u` };
}

/** Python's `\w` as a JavaScript class body (letters, numbers, underscore, in every script) */
const WORD = '\\p{L}\\p{N}_';
/** what JavaScript's u mode lets a backslash escape outside a class (inside, `-` too) */
const SYNTAX = '^$\\.*+?()[]{}|/';
const SIMPLE: Record<string, string> = { t: '\\t', n: '\\n', r: '\\r', f: '\\f', v: '\\v', a: '\\x07' };

/**
 * The escape at `src[at]` (the character after a backslash): its JavaScript text, and how many
 * characters it took after the backslash.
 */
function translateEscape(src: string, at: number, inClass: boolean, ascii: boolean): { text: string; length: number } {
  const n = src[at]!;
  const one = (text: string) => ({ text, length: 1 });
  if (n === 'A' || n === 'Z') {
    if (inClass) throw new PythonRegexError(`bad escape \\${n} in a character class`);
    return one(n === 'A' ? '^' : '$');
  }
  if (n === 'N' && src[at + 1] === '{') throw new PythonRegexError('\\N{name} escapes are not supported: write the character itself');
  if ('wWdDbBsS'.includes(n)) {
    if (ascii || n === 's' || n === 'S') return one(`\\${n}`);
    if (n === 'd') return one('\\p{Nd}');
    if (n === 'D') return one('\\P{Nd}');
    if (n === 'w') return one(inClass ? WORD : `[${WORD}]`);
    if (inClass) {
      if (n === 'b') return one('\\x08'); // backspace, in both languages
      // JavaScript's u mode cannot put a negated Unicode class inside a class: ASCII \W there
      // (`[\W_]+` and `[^\W\d_]` are common idioms; letters beyond ASCII count as non-word in them)
      if (n === 'W') return one('\\W');
      throw new PythonRegexError(`bad escape \\${n} in a character class`);
    }
    if (n === 'W') return one(`[^${WORD}]`);
    const edge = `(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}])`;
    const inside = `(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}])`;
    return one(n === 'b' ? `(?:${edge})` : `(?:${inside})`);
  }
  if (n >= '0' && n <= '9') {
    const octal = /^[0-7]{3}/.exec(src.slice(at))?.[0];
    if (n === '0' || inClass || octal) {
      // Python: \0 and up to two more octal digits, or three octal digits, is a character
      const digits = n === '0' ? /^0[0-7]{0,2}/.exec(src.slice(at))![0] : (octal ?? /^[0-7]{1,3}/.exec(src.slice(at))?.[0]);
      if (!digits) throw new PythonRegexError(`bad escape \\${n}`);
      const code = parseInt(digits, 8);
      if (code > 0o377) throw new PythonRegexError(`octal escape value \\${digits} outside of range 0-0o377`);
      return { text: `\\u{${code.toString(16)}}`, length: digits.length };
    }
    // a group reference, one or two digits
    const ref = /^\d{1,2}/.exec(src.slice(at))![0];
    return { text: `\\${ref}`, length: ref.length };
  }
  if (n === 'x') {
    const hex = /^x[0-9a-fA-F]{2}/.exec(src.slice(at));
    if (!hex) throw new PythonRegexError('incomplete escape \\x');
    return { text: `\\${hex[0]}`, length: 3 };
  }
  if (n === 'u' || n === 'U') {
    const hex = (n === 'u' ? /^u([0-9a-fA-F]{4})/ : /^U([0-9a-fA-F]{8})/).exec(src.slice(at));
    if (!hex) throw new PythonRegexError(`incomplete escape \\${n}`);
    return { text: `\\u{${parseInt(hex[1]!, 16).toString(16)}}`, length: hex[0].length };
  }
  if (Object.hasOwn(SIMPLE, n)) return one(SIMPLE[n]!);
  if (/[A-Za-z]/.test(n)) throw new PythonRegexError(`bad escape \\${n}`);
  // any other character escapes itself in Python; JavaScript's u mode allows that only for its own syntax
  const cp = src.codePointAt(at)!;
  const ch = String.fromCodePoint(cp);
  const keep = SYNTAX.includes(ch) || (inClass && ch === '-');
  return { text: keep ? `\\${ch}` : ch, length: ch.length };
}
