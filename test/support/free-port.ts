import { once } from 'node:events';
import net from 'node:net';

/** A port nobody listens on right now on 127.0.0.1 (the kernel's pick for port 0): for a child process to bind, or to be refused on. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
