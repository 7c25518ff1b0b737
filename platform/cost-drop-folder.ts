/**
 * The watched folder of cloud bills (issue 17): an export job that cannot call the API drops its
 * FOCUS file (name.csv, name.csv.gz or name.parquet) in the folder, and the API process that sees it
 * first takes it, as the inventory folder does (platform/inventory-drop-folder.ts): once its size and
 * modification time held still across two looks, by an atomic rename into `processing/`. It is
 * received as it is (gzip and Parquet are read by the intake), then moved to `done/` (beside
 * `<name>.repeated.txt` when its bytes are a file received before) or to `failed/` beside
 * `<name>.error.txt` saying why. The file's bytes are its key: the same file again is never
 * imported twice, whatever its name.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DROP_ATTEMPTS, isRefusal } from './inventory-drop-folder';
import type { Logger } from './logger';

const COST_FILE = /\.(csv|csv\.gz|parquet)$/i;

export interface CostDropFolderOptions {
  dir: string;
  everyMs: number;
  logger: Logger;
  /** Receives a file as an import; an error with a 4xx `status` refuses the file, anything else is tried again. */
  receive(file: { name: string; stream: Readable }): Promise<{ number: string; state: string; createdAt: string; repeated: boolean }>;
  /** Why no file may be received now (the person imports are recorded as lost the role), or undefined. */
  whyNot?(): Promise<string | undefined>;
}

export class CostDropFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();
  private readonly attempts = new Map<string, number>();
  private inHand: Readable | undefined;

  constructor(private readonly options: CostDropFolderOptions) {}

  async start(): Promise<void> {
    await fs.mkdir(this.options.dir, { recursive: true });
    this.stopped = false;
    this.options.logger.info({ dir: this.options.dir, everyMs: this.options.everyMs }, 'cost drop folder: watching');
    this.schedule(0);
  }

  /** Stops looking; a file being received is cut off and put back, to be taken at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inHand?.destroy(new Error('the API is stopping'));
    await this.running;
  }

  /** One look, taking each cost file that has held still since the last. */
  async look(): Promise<void> {
    const { dir, logger } = this.options;
    const present = new Set<string>();
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (this.stopped) return;
      if (!entry.isFile() || !COST_FILE.test(entry.name)) continue;
      const file = path.join(dir, entry.name);
      present.add(file);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) continue;
      const before = this.seen.get(file);
      this.seen.set(file, { size: stat.size, mtimeMs: stat.mtimeMs });
      if (!before || before.size !== stat.size || before.mtimeMs !== stat.mtimeMs) continue;
      const whyNot = await this.options.whyNot?.();
      if (whyNot) {
        logger.warn({ dir }, `cost drop folder: no file is taken: ${whyNot}`);
        return;
      }
      await this.take(entry.name).catch((error: unknown) => logger.error({ err: error, file }, 'cost drop folder: could not handle a file'));
    }
    for (const file of this.seen.keys()) if (!present.has(file)) this.seen.delete(file);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.look()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'cost drop folder: a look failed; looking again later'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.everyMs);
        });
    }, delayMs);
  }

  private async take(name: string): Promise<void> {
    const { dir, logger } = this.options;
    const waiting = path.join(dir, name);
    const processing = path.join(dir, 'processing', name);
    await fs.mkdir(path.dirname(processing), { recursive: true });
    try {
      await fs.rename(waiting, processing);
    } catch (error) {
      // Another process took it first.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.seen.delete(waiting);
    const stream = createReadStream(processing);
    this.inHand = stream;
    try {
      const received = await this.options.receive({ name, stream });
      this.attempts.delete(waiting);
      const done = await this.moveTo('done', name);
      if (received.repeated) {
        await fs.writeFile(`${done}.repeated.txt`, `${name} holds the same bytes as the file imported as ${received.number} at ${received.createdAt} (now ${received.state}): nothing of it was imported again.\n`);
      }
      logger.info({ file: name, import: received.number, state: received.state, repeated: received.repeated }, 'cost drop folder: file received');
    } catch (error) {
      stream.destroy();
      const attempts = (this.attempts.get(waiting) ?? 0) + 1;
      if (this.stopped && !isRefusal(error)) {
        await fs.rename(processing, waiting);
        return;
      }
      if (isRefusal(error) || attempts >= DROP_ATTEMPTS) {
        this.attempts.delete(waiting);
        const failed = await this.moveTo('failed', name);
        await fs.writeFile(`${failed}.error.txt`, `${name} was not imported: ${(error as Error).message}\n\nRefused at ${new Date().toISOString()}. Correct it and drop it again.\n`);
        logger.warn({ file: name, reason: (error as Error).message }, 'cost drop folder: file refused; moved to failed/');
        return;
      }
      this.attempts.set(waiting, attempts);
      await fs.rename(processing, waiting);
      logger.warn({ err: error, file: name, attempts }, 'cost drop folder: could not receive a file; it is tried again at the next look');
    } finally {
      stream.destroy();
      this.inHand = undefined;
    }
  }

  /** Moves a file from processing/ into `to`/, under a new name when one of its name is there already; answers where it went. */
  private async moveTo(to: string, name: string): Promise<string> {
    const { dir } = this.options;
    await fs.mkdir(path.join(dir, to), { recursive: true });
    let target = path.join(dir, to, name);
    if (await fs.stat(target).then(() => true, () => false)) target = path.join(dir, to, `${new Date().toISOString().replace(/[:.]/g, '')}-${name}`);
    await fs.rename(path.join(dir, 'processing', name), target);
    return target;
  }
}
