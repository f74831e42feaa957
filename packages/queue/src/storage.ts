import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { StorageError, invalidOption, isPlainObject } from '@sgenet/core';

/**
 * Where a job's images live. Images never travel through Redis: a job names an input and an
 * output location, and every worker reads and writes them through the same storage (a shared
 * volume, an object store...). Locations are relative keys such as `uploads/a.jpg`, so that hosts
 * that mount the volume at different paths agree on them.
 */
export interface DeblurStorage {
  /** The bytes at `location`. Throws {@link StorageError} when it is missing or over `maxBytes`. */
  read(location: string, options?: { maxBytes?: number }): Promise<Buffer>;
  /**
   * Writes `data` at `location` atomically: a reader, or a worker killed halfway, sees the old
   * content or the new one, never a part. `owner` (a job id) names the temporary file, so that a
   * retry of the same job can remove what a killed attempt left.
   */
  write(location: string, data: Uint8Array, options?: { owner?: string }): Promise<void>;
  /** Whether something is stored at `location`. */
  exists(location: string): Promise<boolean>;
  /** Removes `location`; nothing happens when it is already gone. */
  remove(location: string): Promise<void>;
}

/** Options of {@link fileStorage}. */
export interface FileStorageOptions {
  /** The folder every location is relative to (a shared volume). Locations cannot leave it. */
  root: string;
}

/** Longest location accepted, in characters. */
export const MAX_LOCATION_LENGTH = 1024;

const TEMP_SUFFIX = '.sgenet-tmp';

/**
 * Checks that a location is a relative key that stays inside its storage: no absolute path, no
 * `..` segment, no NUL, no empty segment. Returned with `/` separators.
 */
export function checkLocation(location: unknown, name = 'location'): string {
  if (typeof location !== 'string' || location.length === 0 || location.length > MAX_LOCATION_LENGTH) {
    throw invalidOption(name, `a relative path of 1 to ${MAX_LOCATION_LENGTH} characters`, location);
  }
  if (location.includes('\0')) throw invalidOption(name, 'a path without NUL characters', location);
  const key = location.replace(/\\/g, '/');
  if (isAbsolute(location) || key.startsWith('/') || /^[A-Za-z]:/.test(key)) {
    throw invalidOption(name, 'a path relative to the storage root (not absolute)', location);
  }
  const segments = key.split('/');
  if (segments.some((s) => s === '..' || s === '')) {
    throw invalidOption(name, 'a path inside the storage root (no "..", no empty segment)', location);
  }
  if (segments.some((s) => s.endsWith(TEMP_SUFFIX))) {
    throw invalidOption(name, `a path whose names do not end in ${TEMP_SUFFIX} (kept for temporary files)`, location);
  }
  return segments.filter((s) => s !== '.').join('/');
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Storage on a local or shared filesystem (NFS, EFS, a Docker volume). */
export class FileStorage implements DeblurStorage {
  /** The absolute root folder. */
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(options: FileStorageOptions) {
    if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
    if (typeof options.root !== 'string' || options.root.length === 0) {
      throw invalidOption('root', 'the path of a folder', options.root);
    }
    this.root = resolve(options.root);
  }

  /** The absolute path of a location, after checking that it (and its symlinks) stays inside the root. */
  async pathOf(location: string): Promise<string> {
    const key = checkLocation(location);
    const path = join(this.root, ...key.split('/'));
    // A symlinked folder could lead outside the root: compare real paths of what exists.
    this.realRoot ??= realpath(this.root).catch((err: unknown) => {
      this.realRoot = undefined;
      throw new StorageError(`The storage root ${this.root} is not readable (${errnoOf(err) ?? String(err)}): create it or mount the shared volume`, { permanent: false });
    });
    const root = await this.realRoot;
    let probe = path;
    for (;;) {
      try {
        const real = await realpath(probe);
        const rel = relative(root, real);
        if (rel.startsWith('..') || isAbsolute(rel)) {
          throw new StorageError(`Location "${location}" leads outside the storage root ${this.root} through a symbolic link`);
        }
        break;
      } catch (err) {
        if (err instanceof StorageError) throw err;
        const parent = dirname(probe);
        if (parent === probe || !parent.startsWith(this.root)) break;
        probe = parent;
      }
    }
    return path;
  }

  async read(location: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const path = await this.pathOf(location);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new StorageError(`Location "${location}" is not a file`);
      size = info.size;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (errnoOf(err) === 'ENOENT') throw new StorageError(`Nothing is stored at "${location}" (${path}): check the path and the storage root`);
      throw new StorageError(`Cannot read "${location}": ${errnoOf(err) ?? String(err)}`, { cause: err, permanent: false });
    }
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      throw new StorageError(`"${location}" is ${size} bytes, over the limit of ${options.maxBytes}: shrink the file or raise maxInputBytes`);
    }
    try {
      return await readFile(path);
    } catch (err) {
      throw new StorageError(`Cannot read "${location}": ${errnoOf(err) ?? String(err)}`, { cause: err, permanent: false });
    }
  }

  async write(location: string, data: Uint8Array, options: { owner?: string } = {}): Promise<void> {
    const path = await this.pathOf(location);
    const owner = options.owner !== undefined && /^[\w-]{1,128}$/.test(options.owner) ? options.owner : randomUUID();
    const dir = dirname(path);
    const temp = join(dir, `.${path.slice(dir.length + 1)}.${owner}${TEMP_SUFFIX}`);
    try {
      await mkdir(dir, { recursive: true });
      // What a killed attempt of the same job left behind.
      await rm(temp, { force: true });
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(data);
        // On the shared volume before the rename makes it visible.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw new StorageError(`Cannot write "${location}" (${path}): ${errnoOf(err) ?? String(err)}`, { cause: err, permanent: false });
    }
  }

  async exists(location: string): Promise<boolean> {
    const path = await this.pathOf(location);
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async remove(location: string): Promise<void> {
    const path = await this.pathOf(location);
    await rm(path, { force: true });
  }

  /** The location of an absolute path inside the root (for CLIs that take file paths). */
  locationOf(path: string): string {
    const rel = relative(this.root, resolve(path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new StorageError(`${path} is outside the storage root ${this.root}: put it under the shared folder or change the root`);
    }
    return rel.split(sep).join('/');
  }
}

/**
 * A {@link DeblurStorage} on a filesystem folder, for a volume every worker mounts.
 *
 * @example
 * ```ts
 * const storage = fileStorage({ root: '/mnt/photos' });
 * await storage.write('out/a.png', bytes); // atomic: temp file, fsync, rename
 * ```
 */
export function fileStorage(options: FileStorageOptions): FileStorage {
  return new FileStorage(options);
}
