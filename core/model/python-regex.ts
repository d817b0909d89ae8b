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
 * (`(?i)`, `(?m)`, `(?s)`; `(?a)`, `(?u)`, `(?L)` change nothing here; `(?x)` strips the verbose
 * whitespace and comments). Refuses what JavaScript (Node 20) cannot express: scoped flags
 * `(?i:…)`, flags after the start, `\N{name}`, conditionals `(?(1)…)`.
 */
export function translatePythonRegex(pattern: string): TranslatedRegex {
  let src = pattern;
  let flags = '';
  let verbose = false;
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(src); m; m = /^\(\?([aiLmsux]+)\)/.exec(src)) {
    src = src.slice(m[0].length);
    for (const f of m[1]!) {
      if (f === 'x') verbose = true;
      else if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    }
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) throw new PythonRegexError('a pattern may not end with a backslash');
      if (n === 'A' && !inClass) out += '^';
      else if (n === 'Z' && !inClass) out += '$';
      else if (n === 'N' && src[i + 2] === '{') throw new PythonRegexError('\\N{name} escapes are not supported: write the character itself');
      else out += c + n;
      i++;
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
    if (c === '{' && src[i + 1] === ',') {
      const m = /^\{,(\d*)\}/.exec(src.slice(i));
      if (m) {
        // Python: {,n} is {0,n} (and {,} is {0,}); JavaScript would match the text "{,n}"
        out += `{0,${m[1]}}`;
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return { source: out, flags };
}
