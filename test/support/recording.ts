// What a stand-in records, with a wait for the nth entry that follows the arrivals (no polling).
export class Recording<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  /** `who` and `what` name the stand-in and its entries in the timeout message. */
  constructor(
    private readonly who: string,
    private readonly what: string,
  ) {}

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the nth entry (1-based) once it has arrived; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs: number): Promise<T> {
    if (this.items.length >= n) return Promise.resolve(this.items[n - 1]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.who}: ${this.items.length} of ${n} expected ${this.what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (this.items.length < n) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.items[n - 1]!);
      };
      this.waiters.add(check);
    });
  }
}
