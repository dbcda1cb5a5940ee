/**
 * An open-loop sender: requests leave on a timer at a fixed rate whether or not earlier
 * ones were answered, so a slow server cannot slow the offered load down and hide its
 * own latency (the coordinated-omission trap of closed-loop tools).
 */
import { Agent } from 'node:http';
import { nowMs } from '../children/clock.js';
import { sendOnce } from './closed-loop.js';

export interface OpenLoopOptions {
  url: string;
  headers: Record<string, string>;
  body: (i: number) => Buffer;
  ratePerSecond: number;
  durationMs: number;
  onTick?: (sent: number, answered: number, elapsedMs: number) => void;
}

export interface OpenLoopSend {
  sentAt: number;
  answeredAt: number | null;
  status: number | null;
  /** Parsed JSON answer, or null for a non-JSON or missing answer. */
  json: unknown;
}

export interface OpenLoopResult {
  sends: OpenLoopSend[];
  durationMs: number;
  /** How late, at worst, the timer sent a request after its scheduled moment. */
  maxScheduleLagMs: number;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const sends: OpenLoopSend[] = [];
  const pending: Promise<void>[] = [];
  let answered = 0;
  let maxScheduleLagMs = 0;
  const start = nowMs();
  let lastTick = start;

  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = nowMs();
      while (sends.length < total && start + sends.length * intervalMs <= now) {
        const i = sends.length;
        maxScheduleLagMs = Math.max(maxScheduleLagMs, now - (start + i * intervalMs));
        const record: OpenLoopSend = { sentAt: nowMs(), answeredAt: null, status: null, json: null };
        sends.push(record);
        pending.push(
          sendOnce(agent, url, options.headers, options.body(i)).then(
            (answer) => {
              record.answeredAt = nowMs();
              record.status = answer.status;
              try {
                record.json = JSON.parse(answer.body);
              } catch {
                record.json = null;
              }
              answered++;
            },
            () => {
              record.answeredAt = nowMs();
              answered++;
            },
          ),
        );
      }
      if (now - lastTick >= 1000) {
        lastTick = now;
        options.onTick?.(sends.length, answered, now - start);
      }
      if (sends.length >= total) resolve();
      else setTimeout(pump, 1);
    };
    pump();
  });
  await Promise.all(pending);
  agent.destroy();
  return { sends, durationMs: nowMs() - start, maxScheduleLagMs };
}
