import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Who may write (and, when so configured, read) events. Kept free of Koa so the rules have their
 * own tests: the HTTP tests can only ever connect from loopback.
 */
export interface AccessPolicy {
  /** the bearer token; undefined when none is configured */
  readonly token: string | undefined;
  /**
   * 'trusted': without a token, loopback peers may write. 'untrusted': loopback is treated like any
   * remote peer, which is right behind a reverse proxy on the same host (every request then
   * arrives from 127.0.0.1) and lets tests exercise the remote rule.
   */
  readonly loopback: 'trusted' | 'untrusted';
}

export interface AccessRequest {
  readonly remoteAddress: string | undefined;
  readonly authorization: string | undefined;
  /** the Origin header: browsers send it with every cross-site (and most same-site) POST */
  readonly origin?: string | undefined;
}

export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403; readonly error: string };

export function checkAccess(policy: AccessPolicy, req: AccessRequest): AccessDecision {
  if (policy.token !== undefined) {
    const presented = bearerToken(req.authorization);
    if (presented === undefined) return { ok: false, status: 401, error: 'a bearer token is required (Authorization: Bearer <token>)' };
    if (!sameSecret(presented, policy.token)) return { ok: false, status: 401, error: 'invalid token' };
    return { ok: true };
  }
  if (policy.loopback === 'trusted' && isLoopbackAddress(req.remoteAddress)) {
    // loopback trust is for programs on the host (curl, a deploy hook): a web page in a browser
    // there (or one that rebound its DNS name to 127.0.0.1) would otherwise write events too,
    // since the POST is a "simple" cross-site request that needs no preflight
    if (req.origin !== undefined) return { ok: false, status: 403, error: `a request from a web page (Origin: ${req.origin.slice(0, 100)}) needs the bearer token; without one, only local programs may write` };
    return { ok: true };
  }
  return { ok: false, status: 403, error: 'no token is configured, so this is accepted only from loopback; set a token to allow remote clients' };
}

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback (::ffff:127.x.x.x) as a dual-stack socket reports it. */
export function isLoopbackAddress(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  let a = addr.toLowerCase();
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  const family = isIP(a);
  if (family === 4) return a.startsWith('127.');
  if (family === 6) return a === '::1' || a === '0:0:0:0:0:0:0:1';
  return false;
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Compares digests so the time taken reveals neither the token's length nor a matching prefix. */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
