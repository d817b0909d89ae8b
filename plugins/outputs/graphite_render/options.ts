/** Options of the `graphite_render` output (see schema.ts for defaults and descriptions). */
export interface GraphiteRenderOptions {
  /** path prefix the API is served under ('' = at the root, as graphite-web without URL_PREFIX) */
  urlPrefix: string;
  maxTargetsPerRequest: number;
  maxSeriesPerTarget: number;
  maxPointsPerRequest: number;
  maxPointsInFlight: number;
  maxRequestTimeMs: number;
  /** evaluate render targets on a worker thread (false: on the main thread) */
  evaluateInWorker: boolean;
  /** render worker threads (with evaluateInWorker) */
  renderThreads: number;
  maxExpressionDepth: number;
  maxFindResults: number;
  maxBodyBytes: number;
  /** zone for at-time parsing and csv timestamps when the request has no (known) `tz` */
  timeZone: string;
  /** how ±Infinity appears in JSON render answers */
  jsonInfinity: '1e9999' | 'null';
  /** the string /version answers (Grafana checks it is semver ≥ 1.1 to enable tags and /functions) */
  version: string;
}
