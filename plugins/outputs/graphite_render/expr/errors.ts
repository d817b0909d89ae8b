/**
 * Errors of the target language. Part 2 (the HTTP layer) maps them onto responses:
 * ExprParseError → 400 with the position, ExprEvalError → its `status`.
 */
export class ExprParseError extends Error {
  /** 0-based offset into the target string where parsing failed */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} (at character ${position})`);
    this.name = 'ExprParseError';
    this.position = position;
  }
}

export class ExprEvalError extends Error {
  /**
   * 400: bad arguments or unknown function (graphite-web's InputParameterError); 422: a limit was
   * hit; 503: the datapoints all requests in progress may hold are spent (try again)
   */
  readonly status: number;

  constructor(message: string, status = 400) {
    super(message);
    this.name = 'ExprEvalError';
    this.status = status;
  }
}

export function badArgs(message: string): ExprEvalError {
  return new ExprEvalError(message, 400);
}
