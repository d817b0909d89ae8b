import type { FindNode, FindOptions } from '../../../core/index.js';
import { PatternTooBroad } from '../../../core/index.js';
import { compileNode, type NodeMatcher } from './glob.js';

/** nodes (and brace variants tested against them) a find() walk looks at between two checks of the clock */
const WALK_BATCH = 4096;
/** findAsync(): most milliseconds of walking before the event loop gets a turn */
const SLICE_MS = 10;
/** compiled patterns with more brace variants than this are not kept for the next find */
const MAX_CACHED_VARIANTS = 1000;

/** One node of the dotted name tree; `children` is created lazily (most nodes are leaves). */
interface TreeNode {
  children: Map<string, TreeNode> | undefined;
  leaf: boolean;
}

/**
 * The in-memory tree behind find(): filled once at start (from a directory scan or a database)
 * and then on every new series, so a new series is findable at once and no periodic filesystem
 * walk is needed. Answers like graphite-web's standard finder: per-node globs, a path can be a
 * leaf and a branch at once (two results), results sorted by path with branches first.
 */
export class NameTree {
  private readonly root: TreeNode = { children: new Map(), leaf: false };
  private leaves = 0;
  private readonly cache = new Map<string, NodeMatcher[]>();

  get size(): number {
    return this.leaves;
  }

  /** compiled patterns kept for the next find (for tests) */
  get cachedPatterns(): number {
    return this.cache.size;
  }

  /** Adds a series path (`a.b.c`); returns false when it was already present. */
  add(path: string): boolean {
    let node = this.root;
    let start = 0;
    for (;;) {
      const dot = path.indexOf('.', start);
      const part = dot < 0 ? path.slice(start) : path.slice(start, dot);
      let children = node.children;
      if (!children) children = node.children = new Map();
      let next = children.get(part);
      if (!next) {
        next = { children: undefined, leaf: false };
        children.set(part, next);
      }
      node = next;
      if (dot < 0) break;
      start = dot + 1;
    }
    if (node.leaf) return false;
    node.leaf = true;
    this.leaves++;
    return true;
  }

  has(path: string): boolean {
    let node: TreeNode | undefined = this.root;
    for (const part of path.split('.')) {
      node = node.children?.get(part);
      if (!node) return false;
    }
    return node.leaf;
  }

  /** Removes a leaf and prunes branches left empty. */
  delete(path: string): boolean {
    const parts = path.split('.');
    const trail: TreeNode[] = [this.root];
    let node: TreeNode = this.root;
    for (const part of parts) {
      const next = node.children?.get(part);
      if (!next) return false;
      trail.push(next);
      node = next;
    }
    if (!node.leaf) return false;
    node.leaf = false;
    this.leaves--;
    for (let i = parts.length; i > 0; i--) {
      const n = trail[i]!;
      if (n.leaf || (n.children && n.children.size > 0)) break;
      trail[i - 1]!.children!.delete(parts[i - 1]!);
    }
    return true;
  }

  /**
   * Graphite find: nodes matching the pattern's depth. With `limit`, the walk stops once more
   * than `limit` nodes matched and returns `limit + 1` of them (the caller refuses such an
   * answer): a glob over a million series is refused in the time it takes to find the excess.
   * `leavesOnly`: branches are neither listed nor counted.
   */
  find(pattern: string, opts: FindOptions = {}): FindNode[] {
    const walk = this.walk(pattern, opts);
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
    }
  }

  /**
   * find() for a server: the same answer, but a walk over many nodes (`*.*.*` or `**.nomatch` over
   * a million series takes ~0.5 s) gives the event loop a turn every ~10 ms of walking, so
   * ingestion and other requests go on meanwhile.
   */
  async findAsync(pattern: string, opts: FindOptions = {}): Promise<FindNode[]> {
    const walk = this.walk(pattern, opts);
    let since = performance.now();
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
      if (performance.now() - since >= SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        since = performance.now();
        // a `**` walk of a deep tree, or thousands of brace variants, outlive the request
        if (opts.deadline !== undefined && Date.now() > opts.deadline) throw new PatternTooBroad(`the pattern took longer than the request's time limit to match: narrow it`);
      }
    }
  }

  /** the walk behind find(): yields (nothing) after every WALK_BATCH nodes looked at */
  private *walk(pattern: string, opts: FindOptions): Generator<void, FindNode[], void> {
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const wantBranches = opts.leavesOnly !== true;
    const matchers = this.compile(pattern);
    const branches = new Set<string>();
    const leaves = new Set<string>();
    let looked = 0;
    let nextYield = WALK_BATCH;
    const over = (): boolean => branches.size + leaves.size > limit;
    const found = (path: string, child: TreeNode): void => {
      if (child.leaf) leaves.add(path);
      if (wantBranches && child.children && child.children.size > 0) branches.add(path);
    };
    const visit = function* (node: TreeNode, depth: number, prefix: string): Generator<void, void, void> {
      const m = matchers[depth]!;
      const last = depth === matchers.length - 1;
      const children = node.children;
      if (!children || over()) return;
      if (m.globstar) {
        // `**` matches zero or more nodes: try the rest of the pattern here and at every depth below
        if (!last) yield* visit(node, depth + 1, prefix);
        const below = function* (n: TreeNode, p: string): Generator<void, void, void> {
          for (const [name, child] of n.children ?? []) {
            if (over()) return;
            if (++looked >= nextYield) {
              nextYield = looked + WALK_BATCH;
              yield;
            }
            const path = p === '' ? name : `${p}.${name}`;
            // graphite-web: a terminal `**` is `*` in every directory below, so branches count too
            if (last) found(path, child);
            else yield* visit(child, depth + 1, path);
            yield* below(child, path);
          }
        };
        yield* below(node, prefix);
        return;
      }
      const pathOf = (name: string): string => (prefix === '' ? name : `${prefix}.${name}`);
      for (const name of m.exact) {
        const child = children.get(name);
        if (child) {
          if (last) found(pathOf(name), child);
          else if (child.children) yield* visit(child, depth + 1, pathOf(name));
        }
        if (over()) return;
      }
      if (m.globs.length > 0) {
        for (const [name, child] of children) {
          // each variant of a brace group is a test of its own: 65,536 of them per child
          looked += m.globs.length;
          if (looked >= nextYield) {
            nextYield = looked + WALK_BATCH;
            yield;
          }
          if (m.exact.includes(name)) continue;
          for (const glob of m.globs) {
            if (glob.test(name)) {
              if (last) found(pathOf(name), child);
              else if (child.children) yield* visit(child, depth + 1, pathOf(name));
              break;
            }
          }
          if (over()) return;
        }
      }
    };
    yield* visit(this.root, 0, '');
    const out: FindNode[] = [];
    // past the limit the answer is refused: not worth sorting
    const refused = over();
    for (const p of refused ? branches : [...branches].sort()) out.push({ path: p, isLeaf: false });
    for (const p of refused ? leaves : [...leaves].sort()) out.push({ path: p, isLeaf: true });
    return refused ? out.slice(0, limit + 1) : out;
  }

  /** Every leaf path, sorted (graphite's /metrics/index.json). */
  allLeaves(): string[] {
    const out: string[] = [];
    const walk = (n: TreeNode, p: string): void => {
      for (const [name, child] of n.children ?? []) {
        const path = p === '' ? name : `${p}.${name}`;
        if (child.leaf) out.push(path);
        walk(child, path);
      }
    };
    walk(this.root, '');
    return out.sort();
  }

  private compile(pattern: string): NodeMatcher[] {
    let m = this.cache.get(pattern);
    if (!m) {
      // graphite-web drops backslashes before matching
      m = pattern.replace(/\\/g, '').split('.').map(compileNode);
      // a pattern of many brace variants is ~1.5 KB a variant: 256 of 65,536 each would be 24 GB
      let variants = 0;
      for (const node of m) variants += node.exact.length + node.globs.length;
      if (variants <= MAX_CACHED_VARIANTS) {
        if (this.cache.size >= 256) this.cache.clear();
        this.cache.set(pattern, m);
      }
    }
    return m;
  }
}
