import fs from 'node:fs';

/**
 * Go `os.FileMode` bits, which fsutil puts in `Stat.mode` (not POSIX st_mode).
 * Values are wire facts from Go's io/fs.
 */
export const GoMode = {
  dir: 0x80000000, // 1 << 31
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  socket: 1 << 24,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
  perm: 0o777,
} as const;

const { S_IFMT, S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } = fs.constants;
// POSIX special bits (not exported by every runtime's fs.constants typings).
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;

/** Convert POSIX `st_mode` (from lstat) to Go FileMode bits, as an unsigned 32-bit number. */
export function goFileMode(posixMode: number): number {
  let mode = posixMode & GoMode.perm;
  switch (posixMode & S_IFMT) {
    case S_IFDIR: mode |= GoMode.dir; break;
    case S_IFLNK: mode |= GoMode.symlink; break;
    case S_IFBLK: mode |= GoMode.device; break;
    case S_IFCHR: mode |= GoMode.device | GoMode.charDevice; break;
    case S_IFIFO: mode |= GoMode.namedPipe; break;
    case S_IFSOCK: mode |= GoMode.socket; break;
  }
  if (posixMode & S_ISUID) mode |= GoMode.setuid;
  if (posixMode & S_ISGID) mode |= GoMode.setgid;
  if (posixMode & S_ISVTX) mode |= GoMode.sticky;
  // JS bit operations are signed; the wire field is uint32.
  return mode >>> 0;
}

/** Convert Go FileMode bits back to POSIX permission and special bits (type bits dropped). */
export function posixPermissions(goMode: number): number {
  let mode = goMode & GoMode.perm;
  if (goMode & GoMode.setuid) mode |= S_ISUID;
  if (goMode & GoMode.setgid) mode |= S_ISGID;
  if (goMode & GoMode.sticky) mode |= S_ISVTX;
  return mode;
}

/** True when the Go mode has no type bits: a regular file, the only kind whose content is transferred. */
export function isRegularFile(goMode: number): boolean {
  const typeBits = GoMode.dir | GoMode.symlink | GoMode.device | GoMode.namedPipe | GoMode.socket | GoMode.charDevice;
  return ((goMode >>> 0) & typeBits) === 0;
}

/** True when the Go mode is a directory. */
export function isDirectory(goMode: number): boolean {
  return ((goMode >>> 0) & GoMode.dir) !== 0;
}

/** True when the Go mode is a symlink. */
export function isSymlink(goMode: number): boolean {
  return (goMode & GoMode.symlink) !== 0;
}
