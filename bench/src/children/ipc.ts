import type { ChildProcess } from 'node:child_process';

/** Request/reply over a forked child's IPC channel, each reply matched by its id. */
export interface IpcRequest {
  id: number;
  cmd: string;
  args?: unknown;
}

export interface IpcReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

let nextId = 1;

export function ipcRequest<T>(child: ChildProcess, cmd: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`ipc ${cmd}: no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(message: unknown) {
      const reply = message as IpcReply;
      if (reply?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (reply.ok) resolve(reply.result as T);
      else reject(new Error(`ipc ${cmd}: ${reply.error ?? 'failed'}`));
    }
    if (!child.connected) {
      clearTimeout(timer);
      reject(new Error(`ipc ${cmd}: the child is gone`));
      return;
    }
    child.on('message', onMessage);
    // With a callback a failed send rejects here instead of crashing the harness with an 'error' event.
    child.send({ id, cmd, args } satisfies IpcRequest, (err) => {
      if (!err) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      reject(new Error(`ipc ${cmd}: ${err.message}`));
    });
  });
}

/** The child side: answers each request with its handler's result. */
export function serveIpc(handlers: Record<string, (args: unknown) => unknown | Promise<unknown>>): void {
  process.on('message', (message: unknown) => {
    const { id, cmd, args } = message as IpcRequest;
    const handler = handlers[cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${cmd}`);
        return handler(args);
      })
      .then(
        (result) => process.send?.({ id, ok: true, result } satisfies IpcReply),
        (err: unknown) => process.send?.({ id, ok: false, error: String(err) } satisfies IpcReply),
      );
  });
  // The harness gone means nobody will ever stop us: exit rather than linger.
  process.on('disconnect', () => process.exit(0));
}
