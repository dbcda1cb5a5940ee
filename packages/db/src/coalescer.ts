/**
 * Coalesces concurrent single-item calls into batched statements, DataLoader-style, so 50
 * deliveries in flight cost a few round trips instead of 50. There is no fixed wait: while
 * `maxInFlight` batches are running, new calls queue up and leave together as soon as one
 * returns, so a lone call goes out on the next turn of the event loop and batches grow only
 * under load. Each caller still awaits its own result; a failed batch fails every caller in
 * it with the batch's error (so an unreachable database is seen as such by each).
 */

export interface CoalescerOptions<I, O> {
  /** Runs one batch; must answer one result per item, in order. */
  run: (items: I[]) => Promise<O[]>;
  maxBatch: number;
  maxInFlight: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export class Coalescer<I, O> {
  private readonly waiting: Array<Waiting<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: CoalescerOptions<I, O>) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    // One turn of the event loop lets the calls made by jobs starting together join in.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      void this.runBatch(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    }
  }

  private async runBatch(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const results = await this.options.run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        if (i < results.length) w.resolve(results[i] as O);
        else w.reject(new Error('batched query answered fewer results than items'));
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
