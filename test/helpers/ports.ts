// Ports for tests: one that refuses connections for as long as a test needs it to, and free ports
// for peers that are told where to listen. Test files run in parallel, so a port that was merely
// free a moment ago may belong to another test by the time it is used.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

export interface RefusingPort {
  readonly port: number;
  /** frees the port, for a test that then listens on it itself */
  release(): Promise<void>;
}

/**
 * "Bind port 0, read the port, close" leaves the port to whoever binds next: one CI run saw a port
 * picked that way answer 404 from another test's HTTP server. This port is held by the local end
 * of an open connection instead. Linux refuses connections to it (nothing listens there) and lets
 * no one else bind it until `release`.
 */
export async function refusingPort(): Promise<RefusingPort> {
  const accepted: Socket[] = [];
  const server: Server = createServer((s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const holder = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(holder, 'connect');
  const port = holder.localPort!;
  let released: Promise<void> | undefined;
  return {
    port,
    release() {
      released ??= (async () => {
        // a reset, not a FIN: a closed connection would keep the port in TIME_WAIT for a minute,
        // and the holder never set SO_REUSEADDR, so no one could listen there meanwhile
        holder.resetAndDestroy();
        for (const s of accepted) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return released;
    },
  };
}

// The kernel hands out ephemeral ports (bind to port 0, and the local end of every outgoing
// connection) from ip_local_port_range. A port picked there and released is soon taken again by
// one of the suite's thousands of client connections, and a peer told to listen on it fails with
// EADDRINUSE. Ports below that range are never handed out, so only another explicit pick can
// collide with ours.
const PICK_FROM = 10_000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function bindOnce(kind: 'tcp' | 'udp', port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => (s.close(), resolve(undefined)));
      s.bind(port, '127.0.0.1', () => {
        const got = s.address().port;
        s.close(() => resolve(got));
      });
      return;
    }
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}

/**
 * A loopback port, free right now, for a peer process (carbon-cache, graphite-web, …) or a
 * restart to listen on. Picked below the ephemeral range when there is room there.
 */
export async function freePort(kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  const below = ephemeralLow();
  if (below - PICK_FROM >= 1000) {
    for (let tries = 0; tries < 100; tries++) {
      const got = await bindOnce(kind, PICK_FROM + Math.floor(Math.random() * (below - PICK_FROM)));
      if (got !== undefined) return got;
    }
  }
  const got = await bindOnce(kind, 0);
  if (got === undefined) throw new Error(`no free ${kind} port on 127.0.0.1`);
  return got;
}
