export interface PrometheusScrapeOptions {
  /** the exposition endpoint, e.g. JupyterHub's https://hub.example.org/hub/metrics */
  url: string;
  /** time between scrape starts */
  intervalMs: number;
  /** a scrape (connect, headers and body) that takes longer is abandoned and counted */
  timeoutMs: number;
  /** a larger body (after gzip decoding) is abandoned and counted */
  maxBodyBytes: number;
  /** sent as `Authorization: Bearer <token>`; JupyterHub needs a token with the read:metrics scope */
  bearerToken: string;
  /** file holding the token, read at every scrape (rotation-friendly); exclusive with bearerToken */
  bearerTokenFile: string;
  /** `insecure` accepts any TLS certificate (a self-signed hub); `verify` checks it */
  tls: 'verify' | 'insecure';
  /** prepended to every metric name (with a dot), e.g. `prom` → `prom.jupyterhub_running_servers` */
  prefix: string;
  /** `exposed`: use the timestamps the exporter gives, when it gives one; `scrape`: always the scrape time */
  timestamps: 'exposed' | 'scrape';
}
