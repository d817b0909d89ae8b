/**
 * Deterministic series names for placement tests: plain dotted paths, canonical tagged names and
 * some non-ASCII nodes (those exercise carbon-c-relay's signed-char hashing).
 */
export function generateNames(count: number, seed = 1): string[] {
  let x = seed >>> 0 || 1;
  const rnd = (): number => {
    // xorshift32: reproducible without a dependency
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const words = ['web', 'db', 'cpu', 'mem', 'disk', 'req', 'lat', 'p99', 'café', 'grün', 'eu-west', 'jupyter', 'hub'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const depth = 2 + (rnd() % 4);
    const nodes: string[] = [];
    for (let d = 0; d < depth; d++) nodes.push(`${words[rnd() % words.length]}${rnd() % 50}`);
    let name = `${nodes.join('.')}.m${i}`;
    if (i % 4 === 3) name += `;dc=dc${rnd() % 3};host=h${rnd() % 100}`;
    out.push(name);
  }
  return out;
}
