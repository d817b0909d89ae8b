import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type FetchFailure =
  /** no answer in time (connect, headers or body) */
  | 'timeout'
  /** refused, reset before the headers, DNS, TLS */
  | 'connect'
  /** the server answered with a non-200 status (the detail says which) */
  | 'http_status'
  /** more than maxBodyBytes */
  | 'too_large'
  /** the connection ended before the body did, or the gzip stream was cut */
  | 'truncated';

export type FetchResult = { ok: true; status: number; body: string } | { ok: false; reason: FetchFailure; status?: number; detail: string };

export interface FetchOptions {
  readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly tls: 'verify' | 'insecure';
  /** aborts the request (stop) */
  readonly signal: AbortSignal;
}

/**
 * GET with a whole-request deadline and a body cap. Resolves with a failure reason instead of
 * throwing, so a broken endpoint is data for counters, never an exception on the event loop.
 */
export function httpGet(url: URL, o: FetchOptions): Promise<FetchResult> {
  return new Promise<FetchResult>((resolve) => {
    let settled = false;
    const finish = (r: FetchResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(r);
    };
    const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = requestFn(url, {
      method: 'GET',
      headers: o.headers,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: o.tls === 'verify' } : {}),
    });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout', detail: `no complete answer within ${o.timeoutMs} ms` }), o.timeoutMs);
    const onAbort = (): void => finish({ ok: false, reason: 'timeout', detail: 'aborted by stop' });
    o.signal.addEventListener('abort', onAbort);
    req.on('error', (err) => finish({ ok: false, reason: 'connect', detail: err.message }));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        finish({ ok: false, reason: 'http_status', status, detail: `HTTP ${status}` });
        return;
      }
      const declared = Number(res.headers['content-length']);
      const gzip = /\bgzip\b/i.test(String(res.headers['content-encoding'] ?? ''));
      // The cap applies to the decoded body; a declared length over it is refused before reading.
      if (!gzip && Number.isFinite(declared) && declared > o.maxBodyBytes) {
        finish({ ok: false, reason: 'too_large', detail: `Content-Length ${declared} > maxBodyBytes ${o.maxBodyBytes}` });
        return;
      }
      let stream: Readable = res;
      if (gzip) {
        const gunzip = createGunzip();
        res.on('error', () => finish({ ok: false, reason: 'truncated', detail: 'connection ended before the body did' }));
        stream = res.pipe(gunzip);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxBodyBytes) {
          finish({ ok: false, reason: 'too_large', detail: `body over maxBodyBytes ${o.maxBodyBytes}` });
          return;
        }
        chunks.push(c);
      });
      stream.on('error', (err) => finish({ ok: false, reason: 'truncated', detail: err.message }));
      // 'aborted'/'close' without 'end' means the connection was cut mid-body.
      res.on('close', () => {
        if (!res.complete) finish({ ok: false, reason: 'truncated', detail: 'connection ended before the body did' });
      });
      stream.on('end', () => {
        if (!res.complete) {
          finish({ ok: false, reason: 'truncated', detail: 'connection ended before the body did' });
          return;
        }
        finish({ ok: true, status, body: Buffer.concat(chunks, size).toString('utf8') });
      });
    });
    req.end();
  });
}
