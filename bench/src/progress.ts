/** One line a second while a scenario runs: how far, how fast, how long. */
export function progressLine(label: string, done: number, total: number | null, elapsedMs: number, extra = ''): void {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(done / seconds) : 0;
  const of = total === null ? `${done}` : `${done}/${total}`;
  process.stdout.write(`  [${label}] ${of}  ${rate}/s  ${seconds.toFixed(0)}s${extra ? `  ${extra}` : ''}\n`);
}

export function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

export function note(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
