/**
 * graphite-web's per-node glob (finders/__init__.py, standard.py): braces are expanded first,
 * innermost group at a time, duplicates merged; each variant is then a shell pattern as Python's
 * fnmatch reads it (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`; an unclosed `[` is literal;
 * case-sensitive). A node with none of `*?[` is an exact name.
 */

const BRACES = /\{([^{}]*)\}/;

export function expandBraces(s: string): string[] {
  const m = BRACES.exec(s);
  if (!m) return [s];
  const out = new Set<string>();
  const head = s.slice(0, m.index);
  const tail = s.slice(m.index + m[0].length);
  for (const alt of m[1]!.split(',')) for (const v of expandBraces(head + alt + tail)) out.add(v);
  return [...out];
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?') || s.includes('[');
}

/** Python fnmatch.translate, for one node (so `*` never needs to stop at a dot). */
export function fnmatchToRegExp(pat: string): RegExp {
  let re = '';
  const n = pat.length;
  let i = 0;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (!re.endsWith('.*')) re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        re += '\\[';
      } else {
        let body = pat.slice(i, j);
        i = j + 1;
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        body = body.replace(/\\/g, '\\\\');
        re += `[${body}]`;
      }
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${re})$`, 's');
}

/** A compiled node pattern: exact names to look up, and regexes to test children against. */
export interface NodeMatcher {
  readonly exact: readonly string[];
  readonly regexes: readonly RegExp[];
  /** the node is `**`: any depth */
  readonly globstar: boolean;
}

export function compileNode(node: string): NodeMatcher {
  if (node === '**') return { exact: [], regexes: [], globstar: true };
  const exact: string[] = [];
  const regexes: RegExp[] = [];
  for (const v of expandBraces(node)) {
    if (hasWildcard(v)) regexes.push(fnmatchToRegExp(v));
    else exact.push(v);
  }
  return { exact, regexes, globstar: false };
}
