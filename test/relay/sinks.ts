/**
 * Real TCP receivers for relay tests: a plaintext line sink that records every point, and a raw
 * sink that keeps the bytes (for pickle frames, decoded by Python carbon's own unpickler).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export class LineSink {
  readonly lines: string[] = [];
  readonly raw: Buffer[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly mode: 'lines' | 'raw' = 'lines') {}

  /** Listens on 127.0.0.1 (port 0 = any; or the port it had before, to come back after `close`). */
  async listen(port = this.port): Promise<this> {
    const server = createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      let rest = '';
      sock.on('data', (d: Buffer) => {
        if (this.mode === 'raw') {
          this.raw.push(d);
          return;
        }
        const text = rest + d.toString('utf8');
        const parts = text.split('\n');
        rest = parts.pop()!;
        for (const p of parts) if (p) this.lines.push(p);
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stops accepting and cuts every connection (a destination going down hard). */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** name → number of points received */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const l of this.lines) {
      const name = l.slice(0, l.indexOf(' '));
      m.set(name, (m.get(name) ?? 0) + 1);
    }
    return m;
  }

  /** distinct `name value time` lines (a resent point counts once) */
  distinct(): Set<string> {
    return new Set(this.lines);
  }
}

export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
