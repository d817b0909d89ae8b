export interface GrafanaPushOptions {
  /** Grafana's base URL (e.g. http://grafana:3000); '' turns push mode off */
  url: string;
  /** service-account token; when '' the variable named by tokenEnv is read */
  token: string;
  tokenEnv: string;
  /** '' for an organization annotation, else the dashboard it belongs to */
  dashboardUid: string;
  /** 0 for none */
  panelId: number;
  /** added to every pushed annotation's own tags */
  tags: string[];
  queueMax: number;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
}

export interface GrafanaAnnotationsOptions {
  /** bearer token for writes (and reads when readAccess is 'token'); when '' tokenEnv is read */
  token: string;
  tokenEnv: string;
  readAccess: 'open' | 'token';
  loopback: 'trusted' | 'untrusted';
  maxBodyBytes: number;
  unknownFields: 'reject' | 'ignore';
  push: GrafanaPushOptions;
}
