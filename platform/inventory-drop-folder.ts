/**
 * The watched folder of inventory feeds (issue 16): a tool that cannot call the API drops its file
 * in `<dir>/<source>/` (name.csv or name.jsonl, gzipped as name.csv.gz), and the API process that
 * sees it first takes it. A file is taken once its size and modification time held still across
 * two looks (it is not being written any more), by renaming it into `processing/`: a rename is
 * atomic, so of several API processes watching one folder exactly one gets it. It is received
 * (its name, size and modification time make the batch key: the same file again is the same batch,
 * a new export under the same name a new one), then moved to `done/` (beside `<name>.replayed.txt`
 * naming the batch when it repeats one received before), or to `failed/` beside `<name>.error.txt`
 * saying in words why it was refused. One file at a time per process: the next look waits for the
 * file in hand.
 */
import { createReadStream, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Logger } from './logger';

export type DroppedFormat = 'csv' | 'jsonl';

export interface DroppedFile {
  source: string;
  /** The file's name as dropped. */
  name: string;
  /** Its size in bytes and modification time as taken: with the name, they tell one export from the next. */
  size: number;
  modifiedAt: Date;
  format: DroppedFormat;
  /** Its bytes, gzip undone. */
  stream: Readable;
}

export interface DropFolderOptions {
  dir: string;
  /** The folders of `dir` that are sources; anything else there is logged once and left alone. */
  sources: readonly string[];
  everyMs: number;
  logger: Logger;
  /** Receives a file as a batch; an error with a 4xx `status` is a refusal of the file, anything else is tried again. */
  receive(file: DroppedFile): Promise<ReceivedFile>;
  /** Why files may not be received now (the person batches are recorded as lost the role), or undefined when they may. */
  whyNot?(): Promise<string | undefined>;
}

/** The batch a file became; `replayed` when it repeats one received before, which is answered as it stands. */
export interface ReceivedFile {
  id: string;
  state: string;
  createdAt: string;
  replayed: boolean;
}

/** A file that failed for a reason other than a refusal (the database or Temporal away) is tried this often before it is failed. */
export const DROP_ATTEMPTS = 3;

const FORMATS: [RegExp, DroppedFormat, boolean][] = [
  [/\.csv$/i, 'csv', false],
  [/\.jsonl$/i, 'jsonl', false],
  [/\.csv\.gz$/i, 'csv', true],
  [/\.jsonl\.gz$/i, 'jsonl', true],
];
const WORK_FOLDERS = ['processing', 'done', 'failed'];

/** Whether a receive error refuses the file for good (a 4xx), rather than failing for now. */
export const isRefusal = (error: unknown) => {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
};

/** The refusal in words, for `<name>.error.txt`. */
function refusalText(name: string, error: unknown): string {
  const { message, details } = error as { message?: string; details?: unknown };
  const lines = [`${name} was not taken: ${message ?? String(error)}`, '', `Refused at ${new Date().toISOString()}.`];
  const columns = (details as { columns?: unknown } | undefined)?.columns;
  if (Array.isArray(columns)) lines.push(`The columns an inventory file may have: ${columns.join(', ')}.`);
  lines.push('Correct it and drop it again.');
  return `${lines.join('\n')}\n`;
}

/** Why a file was answered by a batch received before, for `<name>.replayed.txt`: a replay is never silent. */
function replayText(name: string, batch: ReceivedFile): string {
  return `${[
    `${name} repeats batch ${batch.id}, received at ${batch.createdAt} (now ${batch.state}): the same file (the same name, size and modification time) was received then, so nothing of it was staged again.`,
    '',
    'A new export is a new batch even under the same name. To send this very file again as a new batch, drop it under a new name.',
  ].join('\n')}\n`;
}

export class InventoryDropFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** What each waiting file looked like at the last look. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();
  private readonly attempts = new Map<string, number>();
  private readonly logged = new Set<string>();
  private inHand: Readable | undefined;

  constructor(private readonly options: DropFolderOptions) {}

  /** Creates the folders of the sources and starts looking. */
  async start(): Promise<void> {
    const { dir, sources, logger } = this.options;
    for (const source of sources) await fs.mkdir(path.join(dir, source), { recursive: true });
    for (const source of sources) {
      const left = await this.names(path.join(dir, source, 'processing'));
      if (left.length > 0) {
        logger.warn({ source, files: left }, 'inventory drop folder: files left in processing/ by a process that stopped while receiving them; move them back to retry');
      }
    }
    this.stopped = false;
    logger.info({ dir, everyMs: this.options.everyMs }, 'inventory drop folder: watching');
    this.schedule(0);
  }

  /** Stops looking; a file being received is cut off and put back, to be taken at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inHand?.destroy(new Error('the API is stopping'));
    await this.running;
  }

  /** One look at every source folder, taking each file that has held still since the last; resolves when done. */
  async look(): Promise<void> {
    const { dir, sources, logger } = this.options;
    const present = new Set<string>();
    for (const entry of await this.entries(dir)) {
      if (!(entry.isDirectory() && sources.includes(entry.name))) this.logOnce(path.join(dir, entry.name), 'not a source folder: left alone', { sources });
    }
    for (const source of sources) {
      for (const entry of await this.entries(path.join(dir, source))) {
        if (this.stopped) return;
        const file = path.join(dir, source, entry.name);
        if (entry.isDirectory() && WORK_FOLDERS.includes(entry.name)) continue;
        const format = FORMATS.find(([pattern]) => pattern.test(entry.name));
        if (!entry.isFile() || !format) {
          this.logOnce(file, 'not an inventory file: left alone', { taken: ['.csv', '.jsonl', '.csv.gz', '.jsonl.gz'] });
          continue;
        }
        present.add(file);
        const stat = await fs.stat(file).catch(() => undefined);
        if (!stat) continue;
        const before = this.seen.get(file);
        this.seen.set(file, { size: stat.size, mtimeMs: stat.mtimeMs });
        if (!before || before.size !== stat.size || before.mtimeMs !== stat.mtimeMs) continue;
        const whyNot = await this.options.whyNot?.();
        if (whyNot) {
          this.logOnce(dir, `no file is taken: ${whyNot}`, {});
          return;
        }
        await this.take(source, entry.name, format[1], format[2]).catch((error: unknown) => logger.error({ err: error, file }, 'inventory drop folder: could not handle a file'));
      }
    }
    for (const file of this.seen.keys()) if (!present.has(file)) this.seen.delete(file);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.look()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'inventory drop folder: a look failed; looking again later'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.everyMs);
        });
    }, delayMs);
  }

  private async take(source: string, name: string, format: DroppedFormat, gzipped: boolean): Promise<void> {
    const { dir, logger } = this.options;
    const folder = path.join(dir, source);
    const waiting = path.join(folder, name);
    const processing = path.join(folder, 'processing', name);
    await fs.mkdir(path.dirname(processing), { recursive: true });
    try {
      await fs.rename(waiting, processing);
    } catch (error) {
      // Another process took it first.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.seen.delete(waiting);
    // The file as taken: a rename keeps its size and modification time.
    const stat = await fs.stat(processing);
    const raw = createReadStream(processing);
    const stream = gzipped ? raw.pipe(createGunzip()) : raw;
    if (gzipped) raw.once('error', (error) => stream.destroy(error));
    this.inHand = stream;
    try {
      const batch = await this.options.receive({ source, name, size: stat.size, modifiedAt: stat.mtime, format, stream });
      this.attempts.delete(waiting);
      const done = await this.moveTo(folder, 'done', name);
      if (batch.replayed) await fs.writeFile(`${done}.replayed.txt`, replayText(name, batch));
      logger.info({ source, file: name, batchId: batch.id, state: batch.state, replayed: batch.replayed }, batch.replayed
        ? 'inventory drop folder: the same file as a batch received before; nothing new was staged (see its .replayed.txt in done/)'
        : 'inventory drop folder: batch received');
    } catch (error) {
      stream.destroy();
      const attempts = (this.attempts.get(waiting) ?? 0) + 1;
      if (this.stopped && !isRefusal(error)) {
        await fs.rename(processing, waiting);
        return;
      }
      if (isRefusal(error) || attempts >= DROP_ATTEMPTS) {
        this.attempts.delete(waiting);
        const failed = await this.moveTo(folder, 'failed', name);
        await fs.writeFile(`${failed}.error.txt`, refusalText(name, error));
        logger.warn({ source, file: name, reason: (error as Error).message }, 'inventory drop folder: file refused; moved to failed/');
        return;
      }
      this.attempts.set(waiting, attempts);
      await fs.rename(processing, waiting);
      logger.warn({ err: error, source, file: name, attempts }, 'inventory drop folder: could not receive a file; it is tried again at the next look');
    } finally {
      // A batch received before is answered without reading its file.
      stream.destroy();
      this.inHand = undefined;
    }
  }

  /** Moves a file from processing/ into `to`/, under a new name when one of its name is there already; answers where it went. */
  private async moveTo(folder: string, to: string, name: string): Promise<string> {
    await fs.mkdir(path.join(folder, to), { recursive: true });
    let target = path.join(folder, to, name);
    if (await fs.stat(target).then(() => true, () => false)) target = path.join(folder, to, `${new Date().toISOString().replace(/[:.]/g, '')}-${name}`);
    await fs.rename(path.join(folder, 'processing', name), target);
    return target;
  }

  private async entries(folder: string): Promise<Dirent[]> {
    return fs.readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
  }

  private async names(folder: string): Promise<string[]> {
    return (await this.entries(folder)).filter((entry) => entry.isFile()).map((entry) => entry.name);
  }

  private logOnce(where: string, message: string, fields: Record<string, unknown>): void {
    const key = `${where}\u0000${message}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.options.logger.warn({ path: where, ...fields }, `inventory drop folder: ${message}`);
  }
}
