import { once } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between a process under test and a backing service
 * (PostgreSQL, Redis, a receiver), so a chaos test can take the network away without
 * touching the service itself.
 *
 * How the outage looks to the client:
 * - `refuse`: live connections are reset and the listening socket is closed, so new
 *   connections fail at once with ECONNREFUSED (a service that is down, a closed port).
 * - `blackhole`: live connections are destroyed; new connections are accepted and then
 *   ignored, every byte swallowed and nothing answered (a partition, a hung host, a
 *   dropped-packet firewall). This is the worst case: only client-side timeouts help.
 *   With `{ stallOpen: true }` live connections are NOT destroyed but frozen too: bytes
 *   in either direction are dropped, so a query already on the wire never gets an
 *   answer (the hardest case for a connection pool: nothing tells it the socket is dead).
 *
 * `restore()` reopens on the same port, so a URL built from `proxy.url()` / `proxy.port`
 * stays valid through any number of cuts. Connections still held by a blackhole are reset
 * on restore (as a rebooted host answers stale packets), so a client that has not given
 * up on them yet sees ECONNRESET rather than staying stuck.
 *
 * Both directions are plain byte pipes: the proxy never parses the protocol.
 */

export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  /** The port the proxy listens on (fixed for the proxy's lifetime). */
  readonly port: number;
  /** Current state: 'up' forwards, otherwise the mode of the current cut. */
  readonly state: 'up' | CutMode;
  /** Connections forwarded since start (handy to prove the client really goes through the proxy). */
  readonly forwarded: number;
  /** `target` with host and port replaced by the proxy's, e.g. a DATABASE_URL through the proxy. */
  url(target: string): string;
  /**
   * Takes the network away: every live connection is destroyed (or, for a blackhole with
   * `stallOpen`, frozen), new ones refused or blackholed. Default mode `refuse`.
   */
  cut(mode?: CutMode, options?: CutOptions): Promise<void>;
  /** Forwards again, on the same port. */
  restore(): Promise<void>;
  /** Destroys every connection and stops listening for good. */
  close(): Promise<void>;
}

export interface CutOptions {
  /** Blackhole only: freeze live connections instead of resetting them. */
  stallOpen?: boolean;
}

export interface TcpProxyOptions {
  targetHost?: string;
  targetPort: number;
  /** Port to listen on; 0 (default) picks a free one once, then keeps it. */
  port?: number;
}

const HOST = '127.0.0.1';

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const targetHost = options.targetHost ?? HOST;
  const { targetPort } = options;
  const sockets = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let state: 'up' | CutMode = 'up';
  let forwarded = 0;
  let closed = false;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset on one side must never crash the test process.
    socket.on('error', () => socket.destroy());
  };

  const onConnection = (client: net.Socket) => {
    track(client);
    if (state !== 'up') {
      // Blackhole: keep the socket open, read and drop everything, never answer.
      held.add(client);
      client.on('close', () => held.delete(client));
      client.on('data', () => undefined);
      return;
    }
    forwarded++;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const pair = { client, upstream };
    pairs.add(pair);
    const destroyBoth = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', destroyBoth);
    upstream.on('close', destroyBoth);
  };

  let server = net.createServer(onConnection);
  server.listen(options.port ?? 0, HOST);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;

  const reset = (socket: net.Socket) => {
    if (socket.destroyed) return;
    // RST rather than FIN: the client sees an abrupt loss, as with a crashed peer.
    if (socket.readyState === 'open') socket.resetAndDestroy();
    else socket.destroy();
  };
  const destroyAll = () => {
    for (const socket of sockets) reset(socket);
    sockets.clear();
    held.clear();
    pairs.clear();
  };

  // Unpipe both ways and swallow whatever arrives: the sockets stay open, nothing passes.
  const freezeLive = () => {
    for (const { client, upstream } of pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      for (const socket of [client, upstream]) {
        socket.on('data', () => undefined);
        socket.resume();
        held.add(socket);
        socket.on('close', () => held.delete(socket));
      }
    }
    pairs.clear();
  };

  const listen = async () => {
    server = net.createServer(onConnection);
    // The port was ours a moment ago; on a busy machine it can take a few tries to rebind.
    for (let attempt = 0; ; attempt++) {
      try {
        server.listen(port, HOST);
        await once(server, 'listening');
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  const stopListening = async () => {
    if (!server.listening) return;
    const done = once(server, 'close');
    server.close();
    destroyAll();
    await done;
  };

  return {
    port,
    get state() {
      return state;
    },
    get forwarded() {
      return forwarded;
    },
    url(target: string) {
      const url = new URL(target);
      url.hostname = HOST;
      url.port = String(port);
      return url.toString();
    },
    async cut(mode: CutMode = 'refuse', cutOptions: CutOptions = {}) {
      if (closed) throw new Error('tcp proxy is closed');
      if (mode === state) return;
      if (mode === 'refuse') {
        state = 'refuse';
        await stopListening();
        return;
      }
      // blackhole: drop what is open, keep (or start) listening so new connects hang.
      const wasListening = server.listening;
      state = 'blackhole';
      if (cutOptions.stallOpen) freezeLive();
      else destroyAll();
      if (!wasListening) await listen();
    },
    async restore() {
      if (closed) throw new Error('tcp proxy is closed');
      const wasListening = server.listening;
      state = 'up';
      for (const socket of held) reset(socket);
      held.clear();
      if (!wasListening) await listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      state = 'refuse';
      await stopListening();
    },
  };
}
