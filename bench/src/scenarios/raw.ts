import { once } from 'node:events';
import { forkTs } from '../children/registry.js';
import { ipcRequest } from '../children/ipc.js';
import type { RawRunArgs, RawRunResult } from '../children/raw-client-process.js';
import type { BenchContext } from '../context.js';
import { heading, note } from '../progress.js';
import { rawClientEntry, readCpuMs, readPeakRss } from '../stack.js';
import { arrivalRate, cpuPerDeliveryMeter, watchDeliveries } from './deliveries-watch.js';

export interface RawResult {
  requests: number;
  ok: number;
  errors: number;
  concurrency: number;
  bodyBytes: number;
  deliveriesPerSecond: number;
  clientSidePerSecond: number;
  /** Peak RSS of the raw client: the same loader (tsx) and HTTP client as a worker, without queue or database. */
  peakRssBytes: number | null;
  /** The client's CPU (user + system) per request once requests flow. */
  clientCpuMsPerDelivery: number | null;
}

/** Scenario 1: the worker's HTTP client alone against the same receiver, the delivery baseline. */
export async function runRaw(ctx: BenchContext): Promise<RawResult> {
  const { settings, receiver } = ctx;
  const count = settings.drainEvents;
  heading(`raw: got with the worker's agents, ${count} POSTs of ${settings.payloadBytes} B, concurrency ${settings.concurrency}`);
  await receiver.reset();
  const { entry, plainJs } = rawClientEntry();
  const child = forkTs('raw-client', entry, {}, plainJs);
  try {
    await once(child.process, 'message');
    const args: RawRunArgs = { url: receiver.fastUrl, count, concurrency: settings.concurrency, bodyBytes: settings.payloadBytes };
    const running = ipcRequest<RawRunResult>(child.process, 'run', args, 10 * 60_000);
    const cpu = cpuPerDeliveryMeter(() => [child.pid], readCpuMs);
    const watch = watchDeliveries(receiver, 'raw', count, { stallMs: 30_000, maxMs: 5 * 60_000, processes: [child], onPoll: cpu.onPoll });
    const [result, watched] = await Promise.all([running, watch]);
    const peakRssBytes = await readPeakRss(child.pid);
    const deliveriesPerSecond = arrivalRate(watched.stats, watched.stats.unique);
    const clientSidePerSecond = (result.ok / (result.endedAt - result.startedAt)) * 1000;
    note(`raw: ${Math.round(deliveriesPerSecond)} deliveries/s (errors ${result.errors}), client CPU ${cpu.msPerDelivery()?.toFixed(2) ?? '?'} ms per request`);
    return {
      requests: result.sent,
      ok: result.ok,
      errors: result.errors,
      concurrency: settings.concurrency,
      bodyBytes: settings.payloadBytes,
      deliveriesPerSecond,
      clientSidePerSecond,
      peakRssBytes,
      clientCpuMsPerDelivery: cpu.msPerDelivery(),
    };
  } finally {
    await child.stop();
  }
}
