import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { invalidPollMs, onChangeFailed, parseFailed, readFailed, watchFailed } from './errors.js';
import { LabelsSyntaxError, parseDownwardApiLabels, sameLabels, type PodLabels } from './labels.js';

export const DEFAULT_POD_LABELS_PATH = '/etc/podinfo/labels';
export const DEFAULT_POLL_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchPodLabelsOptions {
  /** Period of the fallback re-read (default 10 s); the directory watch normally reports sooner. */
  pollMs?: number;
  /** Aborting closes the watch, like `close()`. */
  signal?: AbortSignal;
  /**
   * Unreadable or malformed file, lost directory watch, or an `onChange` that threw. The last good
   * labels stay current. Each error is reported once until a read succeeds again.
   */
  onError?: (error: Error) => void;
}

export interface PodLabelsWatch {
  /** The last labels read successfully (`{}` if none yet). */
  current(): PodLabels;
  /** Stops the directory watch and the poll timer; no callback runs afterwards. */
  close(): void;
}

/**
 * Follows a downward-API labels file. The kubelet never rewrites that file in place: it writes a
 * new `..<timestamp>` directory and renames a `..data` symlink over the old one, and `labels` is
 * itself a symlink to `..data/labels`. A watch on the file would stay attached to the old inode,
 * so this watches the directory, re-reads on every event and emits only when the labels differ.
 * A slow poll covers platforms and volumes where directory events are not delivered.
 *
 * The file is read once synchronously, so `current()` is meaningful on return; `onChange` fires
 * only for later changes.
 */
export function watchPodLabels(
  path: string,
  onChange: (labels: PodLabels, previous: PodLabels) => void,
  options: WatchPodLabelsOptions = {},
): PodLabelsWatch {
  const { pollMs = DEFAULT_POLL_MS, signal, onError } = options;
  // Node turns an out-of-range interval into 1 ms, which would spin.
  if (!(pollMs > 0 && pollMs <= MAX_TIMER_MS)) throw new RangeError(invalidPollMs(pollMs));
  const dir = dirname(path);
  let labels: PodLabels = {};
  let closed = false;
  let watcher: FSWatcher | undefined;
  // Reported since the last good read, so a missing file is not reported on every poll.
  const reported = new Set<string>();
  let reading = false;
  let readAgain = false;

  const report = (message: string, cause: unknown): void => {
    if (closed) return;
    const key = `${message}\n${cause instanceof Error ? cause.message : String(cause)}`;
    if (reported.has(key)) return;
    reported.add(key);
    try {
      onError?.(new Error(message, { cause }));
    } catch {
      // The error handler failing must not take the watch down with it.
    }
  };

  const accept = (text: string): void => {
    let next: PodLabels;
    try {
      next = parseDownwardApiLabels(text);
    } catch (err) {
      report(parseFailed(path), err);
      return;
    }
    reported.clear();
    if (closed || sameLabels(next, labels)) return;
    const previous = labels;
    labels = next;
    try {
      onChange(next, previous);
    } catch (err) {
      report(onChangeFailed(path), err);
    }
  };

  // One read at a time; events arriving meanwhile ask for one more read, so the last state wins.
  const refresh = async (): Promise<void> => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      do {
        readAgain = false;
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          report(readFailed(path), err);
          continue;
        }
        accept(text);
      } while (readAgain && !closed);
    } finally {
      reading = false;
    }
  };
  const kick = (): void => void refresh();

  const startWatching = (): void => {
    if (watcher || closed) return;
    try {
      const w = watch(dir, kick);
      w.on('error', (err) => {
        report(watchFailed(dir), err);
        w.close();
        if (watcher === w) watcher = undefined;
      });
      watcher = w;
    } catch (err) {
      report(watchFailed(dir), err);
    }
  };

  try {
    labels = parseDownwardApiLabels(readFileSync(path, 'utf8'));
    reported.clear();
  } catch (err) {
    report(err instanceof LabelsSyntaxError ? parseFailed(path) : readFailed(path), err);
  }

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    watcher?.close();
    watcher = undefined;
    signal?.removeEventListener('abort', close);
  };

  // The poll also re-attaches the directory watch, e.g. when the directory appears after start.
  const timer = setInterval(() => {
    startWatching();
    kick();
  }, pollMs);
  startWatching();
  if (signal?.aborted) close();
  else signal?.addEventListener('abort', close, { once: true });

  return { current: () => labels, close };
}
