import type { CallExpr, Expr, KwArg } from './ast.js';
import { ExprParseError } from './errors.js';

/**
 * A hand-written recursive-descent parser for graphite-web's target grammar
 * (render/grammar_unsafe.py semantics, written from its description):
 * - path expressions: nodes of any non-space character except ( ) { } , . ' " \ |, escaped with
 *   `\`; globs `*`, `?`, `[..]` are ordinary characters here, `{a,b}` groups may hold commas;
 * - calls with positional then keyword arguments; literals: numbers (int, float, exponent,
 *   negative; only when followed by `,` `)` or the end, otherwise they are paths such as
 *   `1min.load`), 'single' or "double" quoted strings taken raw, true/false/none/inf (any case);
 * - pipes `a|f(x)|g()` ≡ `g(f(a,x))`; `template(expr, 'v', k='v')`.
 */

const SYMBOLS = new Set(['(', ')', '{', '}', ',', '.', "'", '"', '\\', '|']);
const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE]-?\d+)?/y;
const WS = /\s/;

export interface ParseLimits {
  /** deepest nesting of calls accepted (default 64) */
  readonly maxDepth?: number;
}

export function parseTarget(target: string, limits: ParseLimits = {}): Expr {
  const p = new Parser(target, limits.maxDepth ?? 64);
  p.skipWs();
  if (p.atEnd()) throw new ExprParseError('empty target', 0);
  const e = p.expression(0);
  p.skipWs();
  if (!p.atEnd()) throw new ExprParseError(`unexpected ${JSON.stringify(target[p.pos])}`, p.pos);
  return e;
}

class Parser {
  pos = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  skipWs(): void {
    while (this.pos < this.s.length && WS.test(this.s[this.pos]!)) this.pos++;
  }

  private fail(msg: string, at = this.pos): never {
    throw new ExprParseError(msg, at);
  }

  /** template | call | path, followed by any number of `|call` */
  expression(depth: number): Expr {
    if (depth > this.maxDepth) this.fail(`expression nested deeper than ${this.maxDepth}`);
    this.skipWs();
    let e: Expr;
    const ident = this.peekIdent();
    if (ident !== undefined && this.parenFollows(this.pos + ident.length)) {
      e = ident === 'template' ? this.template(depth) : this.call(depth);
    } else {
      e = this.path();
    }
    for (;;) {
      const save = this.pos;
      this.skipWs();
      if (this.s[this.pos] !== '|') {
        this.pos = save;
        return e;
      }
      this.pos++;
      this.skipWs();
      const callStart = this.pos;
      const name = this.peekIdent();
      if (name === undefined || !this.parenFollows(this.pos + name.length)) this.fail('a function call must follow "|"');
      // each pipe wraps what came before one level deeper: `a|f()|g()` is g(f(a))
      if (++depth > this.maxDepth) this.fail(`expression nested deeper than ${this.maxDepth}`);
      const piped = this.call(depth);
      e = { ...piped, args: [e, ...piped.args], raw: this.s.slice(callStart, this.pos) } satisfies CallExpr;
    }
  }

  private peekIdent(): string | undefined {
    const s = this.s;
    if (this.pos >= s.length || !IDENT_START.test(s[this.pos]!)) return undefined;
    let i = this.pos + 1;
    while (i < s.length && IDENT.test(s[i]!)) i++;
    return s.slice(this.pos, i);
  }

  private parenFollows(i: number): boolean {
    while (i < this.s.length && WS.test(this.s[i]!)) i++;
    return this.s[i] === '(';
  }

  private call(depth: number): CallExpr {
    const start = this.pos;
    const name = this.peekIdent()!;
    this.pos += name.length;
    this.skipWs();
    this.pos++; // '('
    const { args, kwargs } = this.argList(depth + 1);
    return { type: 'call', name, args, kwargs, raw: this.s.slice(start, this.pos) };
  }

  private template(depth: number): Expr {
    this.pos += 'template'.length;
    this.skipWs();
    this.pos++;
    const { args, kwargs } = this.argList(depth + 1);
    const [inner, ...rest] = args;
    if (inner === undefined || !(inner.type === 'path' || inner.type === 'call')) {
      this.fail('template() needs a series expression as its first argument');
    }
    for (const a of [...rest, ...kwargs.map((k) => k.value)]) {
      if (a.type !== 'number' && a.type !== 'string') this.fail('template() accepts only string and number arguments');
    }
    return { type: 'template', inner, args: rest, kwargs };
  }

  /** after '(' up to and including ')' */
  private argList(depth: number): { args: Expr[]; kwargs: KwArg[] } {
    const args: Expr[] = [];
    const kwargs: KwArg[] = [];
    this.skipWs();
    if (this.s[this.pos] === ')') {
      this.pos++;
      return { args, kwargs };
    }
    for (;;) {
      this.skipWs();
      const kw = this.tryKwName();
      if (kw !== undefined) {
        if (kwargs.some((k) => k.name === kw)) this.fail(`keyword argument ${kw} given twice`);
        kwargs.push({ name: kw, value: this.arg(depth) });
      } else {
        if (kwargs.length > 0) this.fail('positional argument after keyword argument');
        args.push(this.arg(depth));
      }
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        return { args, kwargs };
      }
      this.fail(c === undefined ? 'missing ")"' : `unexpected ${JSON.stringify(c)} in argument list`);
    }
  }

  /** `name =` (not `==`) → consumes and returns the name */
  private tryKwName(): string | undefined {
    const name = this.peekIdent();
    if (name === undefined) return undefined;
    let i = this.pos + name.length;
    while (i < this.s.length && WS.test(this.s[i]!)) i++;
    if (this.s[i] !== '=') return undefined;
    this.pos = i + 1;
    return name;
  }

  /** true if only whitespace then `,`, `)` or the end follow position i */
  private endsArg(i: number): boolean {
    while (i < this.s.length && WS.test(this.s[i]!)) i++;
    return i >= this.s.length || this.s[i] === ',' || this.s[i] === ')';
  }

  private arg(depth: number): Expr {
    this.skipWs();
    const s = this.s;
    const c = s[this.pos];
    if (c === undefined) this.fail('missing argument');
    if (c === '"' || c === "'") return this.string(c);
    const word = this.peekIdent();
    if (word !== undefined && this.endsArg(this.pos + word.length)) {
      const lower = word.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        this.pos += word.length;
        return { type: 'boolean', value: lower === 'true' };
      }
      if (lower === 'none') {
        this.pos += word.length;
        return { type: 'none' };
      }
      if (lower === 'inf') {
        this.pos += word.length;
        return { type: 'number', value: Infinity, isInt: false };
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(s);
    if (m && this.endsArg(this.pos + m[0].length)) {
      this.pos += m[0].length;
      const text = m[0];
      return { type: 'number', value: Number(text), isInt: /^-?\d+$/.test(text) };
    }
    return this.expression(depth);
  }

  private string(quote: string): Expr {
    const start = this.pos;
    let i = this.pos + 1;
    const s = this.s;
    for (;;) {
      if (i >= s.length) break;
      if (s[i] === '\\') i++; // an escaped quote does not end the string; the text stays raw
      else if (s[i] === quote) {
        // a doubled quote is part of the string, kept as written (pyparsing's quotedString)
        if (s[i + 1] !== quote) break;
        i++;
      }
      i++;
    }
    if (i >= s.length) this.fail('unterminated string', start);
    this.pos = i + 1;
    return { type: 'string', value: s.slice(start + 1, i) };
  }

  /** dot-separated nodes; `{a,b}` groups keep their commas; `\x` escapes drop the backslash */
  private path(): Expr {
    const s = this.s;
    const start = this.pos;
    let out = '';
    let nodeLen = 0;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) break;
      if (c === '\\') {
        const next = s[this.pos + 1];
        if (next === undefined || !(SYMBOLS.has(next) || next === '=')) this.fail('bad escape in path expression');
        out += next;
        nodeLen++;
        this.pos += 2;
      } else if (c === '{') {
        const close = this.braceGroup();
        out += s.slice(this.pos, close + 1);
        nodeLen++;
        this.pos = close + 1;
      } else if (c === '.') {
        if (nodeLen === 0) this.fail('empty node in path expression');
        out += c;
        nodeLen = 0;
        this.pos++;
      } else if (SYMBOLS.has(c) || WS.test(c)) {
        break;
      } else {
        out += c;
        nodeLen++;
        this.pos++;
      }
    }
    if (out.length === 0) this.fail(s[this.pos] === undefined ? 'missing expression' : `unexpected ${JSON.stringify(s[this.pos])}`, start);
    if (nodeLen === 0) this.fail('path expression ends with "."');
    return { type: 'path', path: out };
  }

  /** index of the `}` closing the group at pos; members are plain path characters and commas */
  private braceGroup(): number {
    const s = this.s;
    let i = this.pos + 1;
    while (i < s.length && s[i] !== '}') {
      const c = s[i]!;
      if (c === '\\') i++;
      else if (c !== ',' && (SYMBOLS.has(c) || WS.test(c))) this.fail('bad character in {..} group', i);
      i++;
    }
    if (i >= s.length) this.fail('unterminated {..} group', this.pos);
    return i;
  }
}
