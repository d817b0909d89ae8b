import type { TagTerm } from '../contracts/store.js';
import { translatePythonRegex } from './python-regex.js';

/**
 * graphite-web's seriesByTag terms: `tag<op>spec`, ops `=`, `!=`, `=~`, `!=~`. Regexes are Python
 * regexes anchored at the start only, as graphite-web writes them (`^(spec)` unless the spec starts
 * with `^`: the group is a capturing one, so `\1` in a spec means what it means there) and searched
 * as Python's re.search would. A term whose spec matches the empty string also matches series that
 * lack the tag.
 */
const TERM = /^([^;!=]+)(!?=~?)([^;]*)$/;

export class TagExpressionError extends Error {}

export function parseTagTerm(expr: string): TagTerm {
  const m = TERM.exec(expr);
  if (!m) throw new TagExpressionError(`invalid tag expression: ${JSON.stringify(expr.slice(0, 200))}`);
  // not trimmed: graphite-web's ` dc=eu` names the tag " dc"
  return { tag: m[1]!, op: m[2] as TagTerm['op'], value: m[3]! };
}

export interface CompiledTerm extends TagTerm {
  /** does a series with this tag value (undefined: the tag is absent) match? */
  matches(value: string | undefined): boolean;
  /** true when the term also matches series lacking the tag */
  readonly matchesEmpty: boolean;
}

export function compileTagTerm(term: TagTerm): CompiledTerm {
  let test: (v: string) => boolean;
  switch (term.op) {
    case '=':
      test = (v) => v === term.value;
      break;
    case '!=':
      test = (v) => v !== term.value;
      break;
    case '=~':
    case '!=~': {
      let search: RegExp;
      try {
        search = pythonAnchoredRegex(term.value);
      } catch (err) {
        throw new TagExpressionError(`invalid regex in tag expression ${term.tag}${term.op}${term.value}: ${(err as Error).message}`);
      }
      // graphite-web's local tag database runs a term that matches the empty string in Python,
      // with re.match (from the value's start only), and the others in SQL, whose REGEXP is
      // re.search: the two differ for a spec like `^a|b`
      const emptyMatches = search.test('') !== (term.op === '!=~');
      const re = emptyMatches ? new RegExp(search.source, `${search.flags}y`) : search;
      const found = (v: string) => {
        re.lastIndex = 0;
        return re.test(v);
      };
      test = term.op === '=~' ? found : (v) => !found(v);
      break;
    }
  }
  const matchesEmpty = test('');
  return {
    ...term,
    matchesEmpty,
    matches: (v) => (v === undefined ? matchesEmpty : test(v)),
  };
}

/**
 * Compiles a list of terms and checks graphite-web's rule that at least one must not match the
 * empty string (otherwise every series would match).
 */
export function compileTagQuery(terms: readonly TagTerm[]): CompiledTerm[] {
  const compiled = terms.map(compileTagTerm);
  if (compiled.length === 0) throw new TagExpressionError('no tag expressions given');
  if (compiled.every((t) => t.matchesEmpty)) throw new TagExpressionError('At least one tagspec must not match the empty string');
  return compiled;
}

/** graphite-web's anchoring of a tag regex (`^(spec)` unless it starts with `^`), as a Python regex */
export function pythonAnchoredRegex(spec: string): RegExp {
  const { source, flags } = translatePythonRegex(spec.startsWith('^') ? spec : `^(${spec})`);
  return new RegExp(source, flags);
}
