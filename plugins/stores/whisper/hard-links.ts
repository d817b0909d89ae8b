/** What link() says where the filesystem has no hard links (exFAT, vfat, some SMB and FUSE mounts). */
const NO_HARD_LINKS: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** A failed link() whose filesystem has no hard links: the caller falls back to a create or a rename. */
export function isNoHardLinks(err: unknown): boolean {
  return NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '');
}
