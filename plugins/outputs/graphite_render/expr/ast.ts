/**
 * The syntax tree of a Graphite target. Pipes (`a.b|scale(2)`) are desugared by the parser into
 * nested calls, exactly as graphite-web's evaluator treats them.
 */
export type Expr = PathExpr | CallExpr | TemplateExpr | NumberLit | StringLit | BooleanLit | NoneLit;

export interface PathExpr {
  readonly type: 'path';
  /** the glob as graphite-web sees it: escapes removed, `{a,b}` kept */
  readonly path: string;
}

export interface KwArg {
  readonly name: string;
  readonly value: Expr;
}

export interface CallExpr {
  readonly type: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly kwargs: readonly KwArg[];
  /** source text of the call (seriesByTag series remember it as their pathExpression) */
  readonly raw: string;
}

/** `template(expr, 'v1', k='v2')`: `$1`, `$k` placeholders in path expressions */
export interface TemplateExpr {
  readonly type: 'template';
  readonly inner: Expr;
  readonly args: readonly Expr[];
  readonly kwargs: readonly KwArg[];
}

export interface NumberLit {
  readonly type: 'number';
  readonly value: number;
  /** graphite-web keeps ints and floats apart (`str(1)` is "1", `str(1.0)` is "1.0") */
  readonly isInt: boolean;
}

export interface StringLit {
  readonly type: 'string';
  /** raw content between the quotes: graphite does no escape processing */
  readonly value: string;
}

export interface BooleanLit {
  readonly type: 'boolean';
  readonly value: boolean;
}

export interface NoneLit {
  readonly type: 'none';
}

export function isSeriesExpr(e: Expr): e is PathExpr | CallExpr | TemplateExpr {
  return e.type === 'path' || e.type === 'call' || e.type === 'template';
}
