/**
 * The Graphite target language: parse a `target`, evaluate it against a QueryStore, and
 * describe the function library for /functions. This is the whole contract the HTTP layer
 * (graphite_render part 2) codes against.
 */
export { TimeSeries, tagsFromName, type ConsolidationFunc, CONSOLIDATION_FUNCS } from './time-series.js';
export { ExprParseError, ExprEvalError } from './errors.js';
export type { Expr, PathExpr, CallExpr, TemplateExpr } from './ast.js';
export { parseTarget, type ParseLimits } from './parser.js';
export { evaluateTarget, type EvalContext } from './evaluator.js';
export { PointBudget, PointPool } from './point-budget.js';
export { functionDescriptions, type FunctionDescription, type ParamDescription } from './describe.js';
export { parseInterval } from './interval.js';
