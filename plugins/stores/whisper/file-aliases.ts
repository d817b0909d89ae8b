import { sep } from 'node:path';

/**
 * Which series names reach the same file through symlinks in the data directory (a directory
 * linked under two names, or a `.wsp` linked to another). Every name is its own series, as in
 * graphite-web, but the persister must send all names of one file to the same thread: two
 * threads updating one file at once would interleave whisper's read-modify-write propagation.
 *
 * `keyOf(name)` is the same string for names of the same file: the name of the file's real path
 * under the data directory, or the real path itself (after a NUL, so it cannot be a name) for a
 * file outside it. Learnt from the links found by the start-up walk; a link made while running
 * is seen at the next start. Hard links are not detected.
 */
export class FileAliases {
  /** logical name prefix (`a.b.`) of a linked directory → its real path */
  private readonly dirLinks: Array<{ prefix: string; real: string }> = [];
  /** name of a linked `.wsp` → the real path of its target */
  private readonly fileLinks = new Map<string, string>();
  private readonly realPrefix: string;

  constructor(private readonly realDataDir: string) {
    this.realPrefix = realDataDir.endsWith(sep) ? realDataDir : realDataDir + sep;
  }

  /** False while the tree has no links: keyOf is then the name itself, at no cost. */
  get any(): boolean {
    return this.dirLinks.length > 0 || this.fileLinks.size > 0;
  }

  /** the real paths the tree lives under: the data directory and every linked directory's target */
  get realRoots(): string[] {
    return this.realDataDir === '' ? [] : [this.realDataDir, ...this.dirLinks.map((l) => l.real)];
  }

  /** symlinks the walk followed (gauge `symlinks`) */
  get links(): number {
    return this.dirLinks.length + this.fileLinks.size;
  }

  /** `prefix`: the names under the link start with it (`disk2.` for `<dataDir>/disk2`). */
  addDirectoryLink(prefix: string, realDir: string): void {
    this.dirLinks.push({ prefix, real: realDir });
  }

  addFileLink(name: string, realFile: string): void {
    this.fileLinks.set(name, realFile);
  }

  /** the linked directories: name prefix (`disk2.`) and real path */
  get directoryLinks(): ReadonlyArray<{ readonly prefix: string; readonly real: string }> {
    return this.dirLinks;
  }

  /** The linked directory a name lives under: the longest linked prefix (a link inside a linked directory is walked under both). */
  linkOf(name: string): { readonly prefix: string; readonly real: string } | undefined {
    let best: { prefix: string; real: string } | undefined;
    for (const l of this.dirLinks) {
      if (name.startsWith(l.prefix) && (best === undefined || l.prefix.length > best.prefix.length)) best = l;
    }
    return best;
  }

  keyOf(name: string): string {
    if (!this.any) return name;
    const file = this.fileLinks.get(name);
    if (file !== undefined) return this.keyOfReal(file);
    const best = this.linkOf(name);
    if (best === undefined) return name;
    const rest = name.slice(best.prefix.length).split('.').join(sep);
    return this.keyOfReal(`${best.real}${sep}${rest}.wsp`);
  }

  private keyOfReal(real: string): string {
    if (real.startsWith(this.realPrefix) && real.endsWith('.wsp')) {
      return real.slice(this.realPrefix.length, -4).split(sep).join('.');
    }
    return `\u0000${real}`;
  }
}
