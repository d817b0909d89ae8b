/**
 * A find pattern whose expansion passes a bound (brace groups multiply: a 150-character
 * `{0,…,9}{0,…,9}…` names ten million variants). Stores throw it from find(); query outputs
 * answer it as a limit (graphite-render: 422), not as a failure.
 */
export class PatternTooBroad extends Error {}
