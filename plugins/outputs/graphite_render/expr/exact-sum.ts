/**
 * A running sum kept exactly: the value is a list of non-overlapping partials (Shewchuk's
 * algorithm, as Python's math.fsum keeps them), so adding a value and later subtracting it leaves
 * no trace. A plain running sum does not: once 1e15 had passed through a window of values near 1,
 * the window's sum of small values was off by up to 0.6 % until the next recompute.
 * Inputs must be finite and well below overflow (|x| < 1e300).
 */
export class ExactSum {
  private readonly partials: number[] = [];

  add(value: number): void {
    const p = this.partials;
    let x = value;
    let kept = 0;
    for (let j = 0; j < p.length; j++) {
      let y = p[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[kept++] = lo;
      x = hi;
    }
    p.length = kept;
    p.push(x);
  }

  /** the exact sum, correctly rounded to a double (ties to even) */
  value(): number {
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0;
    let hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // the remainder below lo decides a tie between hi and its neighbour
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}
