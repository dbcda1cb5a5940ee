import { readdir, readFile, readlink } from 'node:fs/promises';
import { request } from 'node:http';

/**
 * A worker started with METRICS_PORT=0 binds any free port and, at LOG_LEVEL=warn, says
 * nowhere which: the port is found from the process's own listening sockets in /proc.
 */
export async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1]) inodes.add(match[1]);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; column 9 is the inode.
      if (cols[3] === '0A' && cols[9] && inodes.has(cols[9])) {
        const port = parseInt(cols[1]?.split(':')[1] ?? '', 16);
        if (Number.isFinite(port)) ports.push(port);
      }
    }
  }
  return ports;
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface MemoryBreakdown {
  residentBytes: number | null;
  heapTotalBytes: number | null;
  heapUsedBytes: number | null;
  externalBytes: number | null;
}

const METRICS: Record<keyof MemoryBreakdown, string> = {
  residentBytes: 'process_resident_memory_bytes',
  heapTotalBytes: 'nodejs_heap_size_total_bytes',
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  externalBytes: 'nodejs_external_memory_bytes',
};

/** The worker's own view of its memory, from the default process metrics on its /metrics. */
export async function scrapeMemory(pid: number): Promise<MemoryBreakdown | null> {
  for (const port of await listeningPorts(pid)) {
    const text = await get(`http://127.0.0.1:${port}/metrics`).catch(() => '');
    if (!text.includes('process_resident_memory_bytes')) continue;
    const read = (name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
      return match?.[1] ? Number(match[1]) : null;
    };
    const out = {} as MemoryBreakdown;
    for (const [key, name] of Object.entries(METRICS) as [keyof MemoryBreakdown, string][]) out[key] = read(name);
    return out;
  }
  return null;
}
