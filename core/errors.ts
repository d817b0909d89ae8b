/** Stable error codes: callers and tests match the code, never the message. */
export const ErrorCode = {
  CONFIG_READ: 'CRB_E_CONFIG_READ',
  CONFIG_PARSE: 'CRB_E_CONFIG_PARSE',
  CONFIG_INVALID: 'CRB_E_CONFIG_INVALID',
  CONFIG_CONFLICT: 'CRB_E_CONFIG_CONFLICT',
  PLUGIN_UNKNOWN: 'CRB_E_PLUGIN_UNKNOWN',
  PLUGIN_LOAD: 'CRB_E_PLUGIN_LOAD',
  PLUGIN_INVALID: 'CRB_E_PLUGIN_INVALID',
  PLUGIN_START: 'CRB_E_PLUGIN_START',
  PLUGIN_STOP: 'CRB_E_PLUGIN_STOP',
  PLUGIN_TIMEOUT: 'CRB_E_PLUGIN_TIMEOUT',
  ADDRESS_IN_USE: 'CRB_E_ADDRESS_IN_USE',
  HTTP_ROUTE: 'CRB_E_HTTP_ROUTE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class CarbonadoError extends Error {
  readonly code: ErrorCode;
  readonly plugin: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; plugin?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CarbonadoError';
    this.code = code;
    this.plugin = opts.plugin;
  }
}

/**
 * Runs `p` but rejects with a PLUGIN_TIMEOUT error after `ms`. With `progress`, the caller gets a
 * function that makes the `ms` count again from now (work that is long but moving on).
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string, plugin?: string, progress?: (extend: () => void) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let deadline = performance.now() + ms;
  let extended = false;
  const timeout = new Promise<never>((_, reject) => {
    const check = (): void => {
      const left = deadline - performance.now();
      if (left > 0) {
        timer = setTimeout(check, left);
        return;
      }
      const message = extended ? `${what} made no progress for ${ms} ms` : `${what} did not finish within ${ms} ms`;
      reject(new CarbonadoError(ErrorCode.PLUGIN_TIMEOUT, message, plugin === undefined ? {} : { plugin }));
    };
    timer = setTimeout(check, ms);
  });
  progress?.(() => {
    deadline = performance.now() + ms;
    extended = true;
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
