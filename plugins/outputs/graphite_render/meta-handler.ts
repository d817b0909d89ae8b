/**
 * /functions (graphite-web 1.1.8 functions/views.py, §4.9) built from the metadata each implemented
 * function carries, so Grafana's editor offers exactly what carbonado evaluates; and /version.
 */
import { functionDescriptions } from './expr/index.js';
import { ApiError, checkJsonp, graphiteJson, sendJson } from './respond.js';
import type { Request } from './handler.js';

interface Described {
  readonly group?: string;
  readonly params?: ReadonlyArray<{ readonly type?: string }>;
  readonly [k: string]: unknown;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

export async function functions(req: Request, name?: string): Promise<void> {
  if (req.ctx.method !== 'GET') throw new ApiError(405, 'method not allowed: use GET', 'bad_method');
  const jsonp = checkJsonp(req.params.get('jsonp'));
  const pretty = Boolean(req.params.get('pretty'));
  const all = functionDescriptions() as Readonly<Record<string, Described>>;
  if (name !== undefined) {
    const info = Object.prototype.hasOwnProperty.call(all, name) ? all[name] : undefined;
    if (!info) throw new ApiError(404, `Function not found: ${name.slice(0, 80)}`, 'not_found');
    return sendJson(req.ctx, graphiteJson(info, pretty), jsonp);
  }
  // type=pie: only the functions graphite-web's pie charts accept (none here: carbonado draws no graphs)
  const pieOnly = req.params.get('type') === 'pie';
  const group = req.params.get('group');
  const grouped = truthy(req.params.get('grouped'));
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(all).sort()) {
    const info = all[key]!;
    if (pieOnly) continue;
    if (group !== undefined && info.group !== group) continue;
    if (grouped) {
      const g = info.group ?? 'Ungrouped';
      ((result[g] ??= {}) as Record<string, unknown>)[key] = info;
    } else {
      result[key] = info;
    }
  }
  sendJson(req.ctx, graphiteJson(result, pretty), jsonp);
}

export async function version(req: Request): Promise<void> {
  // graphite-web answers text/html; text/plain carries the same body without the HTML risk
  req.ctx.type = 'text/plain; charset=utf-8';
  req.ctx.body = `${req.options.version}\n`;
}
