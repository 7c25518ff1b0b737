/**
 * The watched folder of inventory feeds (issue 16), a drop folder (platform/drop-folder.ts) with a
 * folder per source: a tool that cannot call the API drops its file in `<dir>/<source>/` (name.csv
 * or name.jsonl, gzipped as name.csv.gz), and it is received as a batch of that source (its name,
 * size and modification time make the batch key: the same file again is the same batch, a new
 * export under the same name a new one), then moved to `done/` (beside `<name>.replayed.txt` naming
 * the batch when it repeats one received before), or to `failed/` beside `<name>.error.txt`.
 */
import type { Readable } from 'node:stream';
import { DropFolder, type DropFileKind } from './drop-folder';
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

export interface InventoryDropFolderOptions {
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

const FORMATS: DropFileKind<DroppedFormat>[] = [
  { ending: '.csv', kind: 'csv', gunzip: false },
  { ending: '.jsonl', kind: 'jsonl', gunzip: false },
  { ending: '.csv.gz', kind: 'csv', gunzip: true },
  { ending: '.jsonl.gz', kind: 'jsonl', gunzip: true },
];

/** Why a file was answered by a batch received before, for `<name>.replayed.txt`: a replay is never silent. */
function replayText(name: string, batch: ReceivedFile): string {
  return `${[
    `${name} repeats batch ${batch.id}, received at ${batch.createdAt} (now ${batch.state}): the same file (the same name, size and modification time) was received then, so nothing of it was staged again.`,
    '',
    'A new export is a new batch even under the same name. To send this very file again as a new batch, drop it under a new name.',
  ].join('\n')}\n`;
}

export class InventoryDropFolder extends DropFolder<DroppedFormat, ReceivedFile> {
  constructor({ receive, ...options }: InventoryDropFolderOptions) {
    super({
      ...options,
      label: 'inventory drop folder',
      kinds: FORMATS,
      receive: ({ kind, ...file }) => receive({ ...file, format: kind }),
      received: (name, batch) => ({
        fields: { batchId: batch.id, state: batch.state, replayed: batch.replayed },
        note: batch.replayed ? { suffix: '.replayed.txt', text: replayText(name, batch) } : undefined,
      }),
      refusalHelp: (error) => {
        const columns = ((error as { details?: unknown }).details as { columns?: unknown } | undefined)?.columns;
        return Array.isArray(columns) ? [`The columns an inventory file may have: ${columns.join(', ')}.`] : [];
      },
    });
  }
}
