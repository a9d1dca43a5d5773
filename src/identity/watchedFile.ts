import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface WatchedFileOptions<T, E extends Error> {
  /** Reload when the file changes. Off by default; an explicit reload() always works. */
  readonly watch?: boolean;
  readonly onReload?: (value: T) => void;
  /** Called with the problems of a rejected reload; the previous value stays in force. */
  readonly onError?: (error: E) => void;
}

export type WatchedReload<T, E extends Error> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/**
 * A configuration file in force, replaceable while the gateway runs (the agency registry, the
 * officials registry). A broken edit must not lock everybody out, so a file that fails `read`
 * with the expected error class is reported and the last good value stays in force.
 */
export class WatchedFile<T, E extends Error> {
  #current: T;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  /** Throws when the file is invalid at start: there is no last good value yet. */
  constructor(
    readonly file: string,
    private readonly read: (file: string) => T,
    private readonly isExpected: (error: unknown) => error is E,
    private readonly options: WatchedFileOptions<T, E> = {},
  ) {
    this.#current = read(file);
    if (options.watch) this.#watch();
  }

  get current(): T {
    return this.#current;
  }

  reload(): WatchedReload<T, E> {
    try {
      this.#current = this.read(this.file);
      this.options.onReload?.(this.#current);
      return { ok: true, value: this.#current };
    } catch (error) {
      if (!this.isExpected(error)) throw error;
      this.options.onError?.(error);
      return { ok: false, error };
    }
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #watch(): void {
    // The directory is watched, not the file: editors and config management replace the file by
    // renaming a new one over it, which a watch on the old inode would never see.
    const name = path.basename(this.file);
    this.#watcher = watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.reload(), 50);
    });
  }
}
