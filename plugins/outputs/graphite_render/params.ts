import type { Context } from 'koa';

/**
 * graphite-web merges the query string and the form body into one multi-valued dict
 * (`GET.copy().update(POST)`: repeated keys accumulate, `get` answers the last value). Grafana sends
 * POST form bodies for /render and /metrics/find, so both must behave the same.
 */
export class Params {
  private readonly map = new Map<string, string[]>();

  add(key: string, value: string): void {
    const list = this.map.get(key);
    if (list) list.push(value);
    else this.map.set(key, [value]);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** the last value, as Django's QueryDict.__getitem__ */
  get(key: string): string | undefined {
    const list = this.map.get(key);
    return list ? list[list.length - 1] : undefined;
  }

  getAll(key: string): string[] {
    return this.map.get(key) ?? [];
  }

  /** `key` if given, else the PHP/jQuery-style `key[]` */
  getList(key: string): string[] {
    const plain = this.getAll(key);
    return plain.length > 0 ? plain : this.getAll(`${key}[]`);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }
}

export class BodyTooLarge extends Error {}

/** Reads the query string and, for form-encoded POSTs, the body (at most `maxBytes`). */
export async function readParams(ctx: Context, maxBytes: number): Promise<Params> {
  const p = new Params();
  for (const [k, v] of new URLSearchParams(ctx.querystring)) p.add(k, v);
  if (ctx.method !== 'POST') return p;
  if (ctx.is('application/x-www-form-urlencoded') || !ctx.get('content-type')) {
    const body = await readBody(ctx, maxBytes);
    for (const [k, v] of new URLSearchParams(body)) p.add(k, v);
  } else if (ctx.is('multipart/form-data')) {
    // graphite-web cluster peers with REMOTE_STORE_USE_POST send their fields this way (urllib3's default)
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(ctx.get('content-type'));
    if (boundary) for (const [k, v] of parseMultipart(await readBody(ctx, maxBytes), boundary[1] ?? boundary[2]!)) p.add(k, v);
  }
  return p;
}

/** Text fields of a multipart/form-data body (file parts are read as text too; nothing here takes files). */
export function parseMultipart(body: string, boundary: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of body.split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, sep));
    if (!name) continue;
    let value = part.slice(sep + 4);
    if (value.endsWith('\r\n')) value = value.slice(0, -2);
    out.push([name[1]!, value]);
  }
  return out;
}

/** The raw body as text, refusing more than maxBytes (so a client cannot make us buffer without bound). */
export function readBody(ctx: Context, maxBytes: number): Promise<string> {
  const req = ctx.req;
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > maxBytes) return Promise.reject(new BodyTooLarge(`request body larger than ${maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) {
        failed = true;
        // the rest is read and dropped (the 413 closes the connection): a paused request stopped
        // the socket, and the next request on a kept-alive connection hung until it timed out
        chunks.length = 0;
        reject(new BodyTooLarge(`request body larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}
