/**
 * A watched folder (issues 16 and 17): a tool that cannot call the API drops its file in the folder
 * (or in the folder of its source), and the API process that sees it first takes it. A file is
 * taken once its size and modification time held still across two looks (it is not being written
 * any more), by renaming it into `processing/<host>.<pid>/`: a rename is atomic, so of several API
 * processes watching one folder exactly one gets it, and the folder names who has it. It is handed
 * to the receiver, then moved to `done/` (beside a note when the receiver has one, such as that it
 * repeats a file received before), or to `failed/` beside `<name>.error.txt` saying in words why:
 * at once when the receiver refuses it (an error with a 4xx `status`), after DROP_ATTEMPTS looks
 * when it keeps failing for another reason (the database or Temporal away). One file at a time per
 * process: the next look waits for the file in hand.
 *
 * A process that stops while receiving puts the file back; one that dies leaves it in processing/.
 * At start, the files left by this host's processes that are gone (the same pid is this process
 * restarted, as in a container) are put back to be taken again, and the log says so; once only: a
 * file left again (it may be what killed the process) goes to failed/. Files left by another host's
 * process, or by one still alive, are left alone and named in the log. The receivers are idempotent
 * per file, so a file taken twice is still received once.
 */
import { createReadStream, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Logger } from './logger';

/** A file that failed for a reason other than a refusal is tried this often before it is failed. */
export const DROP_ATTEMPTS = 3;

/** Whether a receive error refuses the file for good (a 4xx), rather than failing for now. */
export const isRefusal = (error: unknown) => {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
};

/** A kind of file the folder takes, by the end of its name; `gunzip` when its bytes are handed over gzip undone. */
export interface DropFileKind<K> {
  ending: string;
  kind: K;
  gunzip: boolean;
}

export interface DroppedFile<K> {
  /** The source folder it was dropped in; '' when the folder has no source folders. */
  source: string;
  /** The file's name as dropped. */
  name: string;
  /** Its size in bytes and modification time as taken: a rename keeps both. */
  size: number;
  modifiedAt: Date;
  kind: K;
  stream: Readable;
}

/** What a received file is told: the log's fields and, when there is one, the note left beside it in done/. */
export interface ReceivedAccount {
  fields: Record<string, unknown>;
  note?: { suffix: string; text: string };
}

export interface DropFolderOptions<K, R> {
  /** What the log calls the folder, such as "inventory drop folder". */
  label: string;
  dir: string;
  /** The folders of `dir` that are sources, each watched, anything else in `dir` logged once and left alone; without them, `dir` is watched. */
  sources?: readonly string[];
  /** The files taken; anything else is logged once and left alone. */
  kinds: readonly DropFileKind<K>[];
  everyMs: number;
  logger: Logger;
  /** Receives a file; an error with a 4xx `status` refuses it, anything else is tried again. */
  receive(file: DroppedFile<K>): Promise<R>;
  /** Why no file may be received now (the person the folder receives as lost the role), or undefined when they may. */
  whyNot?(): Promise<string | undefined>;
  /** What is told of a received file. */
  received(name: string, result: R): ReceivedAccount;
  /** Lines the refusal in words ends with, such as the columns a file may have. */
  refusalHelp?(error: unknown): string[];
}

const WORK_FOLDERS = ['processing', 'done', 'failed'];
/** processing/put-back/<name> holds the size and modification time of a file put back after a process died receiving it. */
const PUT_BACK = 'put-back';

/** Written beside the file and renamed into place: whoever reads the note sees all of it or none. */
async function writeWhole(target: string, text: string): Promise<void> {
  await fs.writeFile(`${target}.part`, text);
  await fs.rename(`${target}.part`, target);
}

/** The process a folder of processing/ belongs to: `<host>.<pid>` (a host name may hold dots, a pid does not). */
function ownerOf(folderName: string): { host: string; pid: number } | undefined {
  const match = /^(.+)\.(\d+)$/.exec(folderName);
  return match ? { host: match[1], pid: Number(match[2]) } : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it is there, run by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const exists = (file: string) => fs.stat(file).then(() => true, () => false);

export class DropFolder<K, R> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** What each waiting file looked like at the last look. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();
  private readonly attempts = new Map<string, number>();
  private readonly logged = new Set<string>();
  /** Why files wait, as last logged: logged again only when it changes. */
  private holdingBack: string | undefined;
  private inHand: Readable | undefined;
  private readonly owner = `${os.hostname()}.${process.pid}`;

  constructor(private readonly options: DropFolderOptions<K, R>) {}

  /** Creates the folders, puts back the files a process that is gone left in processing/, and starts looking. */
  async start(): Promise<void> {
    const { dir, label, logger, everyMs } = this.options;
    for (const { folder } of this.folders()) await fs.mkdir(folder, { recursive: true });
    for (const { source, folder } of this.folders()) await this.putBackLeftovers(source, folder);
    this.stopped = false;
    logger.info({ dir, everyMs }, `${label}: watching`);
    this.schedule(0);
  }

  /** Stops looking; a file being received is cut off and put back, to be taken at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inHand?.destroy(new Error('the API is stopping'));
    await this.running;
  }

  /** One look at every watched folder, taking each file that has held still since the last; resolves when done. */
  async look(): Promise<void> {
    const { dir, sources, kinds } = this.options;
    const present = new Set<string>();
    if (sources) {
      for (const entry of await this.entries(dir)) {
        if (!(entry.isDirectory() && sources.includes(entry.name))) this.logOnce(path.join(dir, entry.name), 'not a source folder: left alone', { sources });
      }
    }
    for (const { source, folder } of this.folders()) {
      for (const entry of await this.entries(folder)) {
        if (this.stopped) return;
        const file = path.join(folder, entry.name);
        if (entry.isDirectory() && WORK_FOLDERS.includes(entry.name)) continue;
        const kind = kinds.find(({ ending }) => entry.name.toLowerCase().endsWith(ending));
        if (!entry.isFile() || !kind) {
          this.logOnce(file, 'not a file this folder takes: left alone', { taken: kinds.map(({ ending }) => ending) });
          continue;
        }
        present.add(file);
        const stat = await fs.stat(file).catch(() => undefined);
        if (!stat) continue;
        const before = this.seen.get(file);
        this.seen.set(file, { size: stat.size, mtimeMs: stat.mtimeMs });
        if (!before || before.size !== stat.size || before.mtimeMs !== stat.mtimeMs) continue;
        if (!(await this.mayTake())) return;
        await this.take(source, folder, entry.name, kind).catch((error: unknown) => this.options.logger.error({ err: error, file }, `${this.options.label}: could not handle a file`));
      }
    }
    for (const file of this.seen.keys()) if (!present.has(file)) this.seen.delete(file);
  }

  private folders(): { source: string; folder: string }[] {
    const { dir, sources } = this.options;
    return sources ? sources.map((source) => ({ source, folder: path.join(dir, source) })) : [{ source: '', folder: dir }];
  }

  /** Whether files may be received now; why not is logged when it starts, and again only when it changes or ends. */
  private async mayTake(): Promise<boolean> {
    const { dir, label, logger } = this.options;
    const whyNot = await this.options.whyNot?.();
    if (whyNot) {
      if (whyNot !== this.holdingBack) logger.warn({ dir }, `${label}: no file is taken: ${whyNot}`);
      this.holdingBack = whyNot;
      return false;
    }
    if (this.holdingBack) logger.info({ dir }, `${label}: files are taken again`);
    this.holdingBack = undefined;
    return true;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.look()
        .catch((error: unknown) => this.options.logger.error({ err: error }, `${this.options.label}: a look failed; looking again later`))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.everyMs);
        });
    }, delayMs);
  }

  private async take(source: string, folder: string, name: string, { kind, gunzip }: DropFileKind<K>): Promise<void> {
    const { label, logger } = this.options;
    const waiting = path.join(folder, name);
    const mine = path.join(folder, 'processing', this.owner);
    const processing = path.join(mine, name);
    await fs.mkdir(mine, { recursive: true });
    try {
      await fs.rename(waiting, processing);
    } catch (error) {
      // Another process took it first.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.seen.delete(waiting);
    const stat = await fs.stat(processing);
    const raw = createReadStream(processing);
    // pipeline: destroying the gunzip (when stopping, or when done) closes the file too.
    const stream = gunzip ? pipeline(raw, createGunzip(), () => undefined) : raw;
    this.inHand = stream;
    try {
      const result = await this.options.receive({ source, name, size: stat.size, modifiedAt: stat.mtime, kind, stream });
      this.attempts.delete(waiting);
      const done = await this.moveTo(folder, processing, 'done', name);
      await this.forgetPutBack(folder, name);
      const { fields, note } = this.options.received(name, result);
      if (note) await writeWhole(`${done}${note.suffix}`, note.text);
      logger.info({ source: source || undefined, file: name, ...fields }, note
        ? `${label}: file received; see its ${note.suffix} in done/`
        : `${label}: file received`);
    } catch (error) {
      stream.destroy();
      const attempts = (this.attempts.get(waiting) ?? 0) + 1;
      if (this.stopped && !isRefusal(error)) {
        await fs.rename(processing, waiting);
        return;
      }
      if (isRefusal(error) || attempts >= DROP_ATTEMPTS) {
        this.attempts.delete(waiting);
        const failed = await this.moveTo(folder, processing, 'failed', name);
        await writeWhole(`${failed}.error.txt`, this.refusalText(name, error, attempts));
        await this.forgetPutBack(folder, name);
        logger.warn({ source: source || undefined, file: name, reason: (error as Error).message }, `${label}: file refused; moved to failed/`);
        return;
      }
      this.attempts.set(waiting, attempts);
      await fs.rename(processing, waiting);
      logger.warn({ err: error, source: source || undefined, file: name, attempts }, `${label}: could not receive a file; it is tried again at the next look`);
    } finally {
      // A file received before may be answered without reading it.
      stream.destroy();
      this.inHand = undefined;
    }
  }

  /** The refusal in words, for `<name>.error.txt`. */
  private refusalText(name: string, error: unknown, attempts: number): string {
    const { message } = error as { message?: string };
    const refused = isRefusal(error);
    return `${[
      `${name} was not taken: ${message ?? String(error)}`,
      '',
      refused ? `Refused at ${new Date().toISOString()}.` : `Failed ${attempts} times, the last at ${new Date().toISOString()}.`,
      ...(this.options.refusalHelp?.(error) ?? []),
      refused ? 'Correct it and drop it again.' : 'Drop it again once the fault is mended.',
    ].join('\n')}\n`;
  }

  /** Moves a file from processing/ into `to`/, under a new name when one of its name is there already; answers where it went. */
  private async moveTo(folder: string, from: string, to: string, name: string): Promise<string> {
    await fs.mkdir(path.join(folder, to), { recursive: true });
    let target = path.join(folder, to, name);
    if (await exists(target)) target = path.join(folder, to, `${new Date().toISOString().replace(/[:.]/g, '')}-${name}`);
    await fs.rename(from, target);
    return target;
  }

  /**
   * Puts back the files that a process of this host that is gone left in processing/ (this very
   * pid is this process before a restart), to be taken again at the next look, or to failed/ when
   * it was put back before; anything else there may be in a live process's hands, so it is only
   * named in the log.
   */
  private async putBackLeftovers(source: string, folder: string): Promise<void> {
    const { label, logger } = this.options;
    const processing = path.join(folder, 'processing');
    for (const entry of await this.entries(processing)) {
      if (entry.name === PUT_BACK) continue;
      const where = path.join(processing, entry.name);
      const owner = entry.isDirectory() ? ownerOf(entry.name) : undefined;
      const gone = owner !== undefined && owner.host === os.hostname() && (owner.pid === process.pid || !isAlive(owner.pid));
      if (!gone) {
        const files = entry.isDirectory() ? await this.names(where) : [entry.name];
        if (files.length > 0) {
          logger.warn({ source: source || undefined, path: where, files }, `${label}: files left in processing/ by a process that may still be receiving them (another host's, or one alive); move them back to retry once it is gone`);
        }
        continue;
      }
      for (const name of await this.names(where)) {
        const left = path.join(where, name);
        const { size, mtimeMs } = await fs.stat(left);
        const marker = path.join(processing, PUT_BACK, name);
        if (await fs.readFile(marker, 'utf8').then((text) => text === `${size} ${mtimeMs}`, () => false)) {
          const failed = await this.moveTo(folder, left, 'failed', name);
          await fs.writeFile(`${failed}.error.txt`, `${name} was not taken: the API stopped twice while receiving it, without a word why.\n\nFailed at ${new Date().toISOString()}. Look for the cause in the log, then drop it again.\n`);
          await this.forgetPutBack(folder, name);
          logger.error({ source: source || undefined, file: name }, `${label}: a file left in processing/ a second time by a process that stopped while receiving it; moved to failed/`);
          continue;
        }
        if (await exists(path.join(folder, name))) {
          logger.warn({ source: source || undefined, path: path.join(where, name) }, `${label}: a file left in processing/ by a process that stopped while receiving it was not put back: a file of its name waits to be taken; move it back by hand`);
          continue;
        }
        await fs.mkdir(path.dirname(marker), { recursive: true });
        await fs.writeFile(marker, `${size} ${mtimeMs}`);
        await fs.rename(left, path.join(folder, name));
        logger.warn({ source: source || undefined, file: name, from: where }, `${label}: a file left in processing/ by a process that stopped while receiving it is put back, to be taken again`);
      }
      // Left in place when a file stays in it.
      await fs.rmdir(where).catch(() => undefined);
    }
  }

  private async forgetPutBack(folder: string, name: string): Promise<void> {
    await fs.rm(path.join(folder, 'processing', PUT_BACK, name), { force: true });
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
    this.options.logger.warn({ path: where, ...fields }, `${this.options.label}: ${message}`);
  }
}
