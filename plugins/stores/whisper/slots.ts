/**
 * At most `size` holders at a time; the others wait, first come first served. The directory walk
 * uses it so that only a few directory listings are in flight: libuv runs the callbacks of every
 * listing finished so far in one go, so a walk that asked for all of them at once kept the event
 * loop (sockets, timers) waiting for hundreds of milliseconds on a big tree.
 */
export class Slots {
  private free: number;
  private waiting: Array<() => void> = [];
  private head = 0;

  constructor(size: number) {
    this.free = size;
  }

  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      // drop the served part now and then, so a long wait list is not shifted one by one
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next();
      return;
    }
    this.free++;
  }
}

function noop(): void {}
