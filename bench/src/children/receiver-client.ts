import { once } from 'node:events';
import { forkTs, type Child } from './registry.js';
import { ipcRequest } from './ipc.js';
import type { ReceiverStats } from './receiver-process.js';

export type { ReceiverStats };

export interface Receiver {
  child: Child;
  fastUrl: string;
  hangUrl: string;
  reset(options?: { recordArrivals?: boolean }): Promise<void>;
  stats(): Promise<ReceiverStats>;
  deliveryIds(): Promise<string[]>;
  arrivals(): Promise<[string, number][]>;
  /** Up to 20 duplicated deliveries with the X-Webhook-Attempt of each arrival. */
  duplicateSamples(): Promise<Record<string, string[]>>;
  closeHanging(): Promise<number>;
}

export async function startReceiver(): Promise<Receiver> {
  const child = forkTs('receiver', 'bench/src/children/receiver-process.ts');
  const ready = once(child.process, 'message');
  const died = once(child.process, 'exit').then(() => {
    throw new Error(`receiver exited before it was ready:\n${child.stderrTail()}`);
  });
  await Promise.race([ready, died]);
  const ports = await ipcRequest<{ fast: number; hang: number }>(child.process, 'ports');
  const call = <T>(cmd: string, args?: unknown) => ipcRequest<T>(child.process, cmd, args, 60_000);
  return {
    child,
    fastUrl: `http://127.0.0.1:${ports.fast}/hook`,
    hangUrl: `http://127.0.0.1:${ports.hang}/hook`,
    reset: async (options = {}) => {
      await call('reset', options);
    },
    stats: () => call<ReceiverStats>('stats'),
    deliveryIds: () => call<string[]>('deliveryIds'),
    arrivals: () => call<[string, number][]>('arrivals'),
    duplicateSamples: () => call<Record<string, string[]>>('duplicateSamples'),
    closeHanging: () => call<number>('closeHanging'),
  };
}
