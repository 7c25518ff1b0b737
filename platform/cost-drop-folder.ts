/**
 * The watched folder of cloud bills (issue 17), a drop folder (platform/drop-folder.ts): an export
 * job that cannot call the API drops its FOCUS file (name.csv, name.csv.gz or name.parquet) in the
 * folder, and it is received as it is (gzip and Parquet are read by the intake), then moved to
 * `done/` (beside `<name>.repeated.txt` when its bytes are a file received before) or to `failed/`
 * beside `<name>.error.txt` saying why. The file's bytes are its key: the same file again is never
 * imported twice, whatever its name.
 */
import type { Readable } from 'node:stream';
import { DropFolder, type DropFileKind } from './drop-folder';
import type { Logger } from './logger';

export interface ReceivedCostFile {
  number: string;
  state: string;
  createdAt: string;
  repeated: boolean;
}

export interface CostDropFolderOptions {
  dir: string;
  everyMs: number;
  logger: Logger;
  /** Receives a file as an import; an error with a 4xx `status` refuses the file, anything else is tried again. */
  receive(file: { name: string; stream: Readable }): Promise<ReceivedCostFile>;
  /** Why no file may be received now (the person imports are recorded as lost the role), or undefined. */
  whyNot?(): Promise<string | undefined>;
}

const COST_FILES: DropFileKind<'focus'>[] = ['.csv', '.csv.gz', '.parquet'].map((ending) => ({ ending, kind: 'focus', gunzip: false }));

export class CostDropFolder extends DropFolder<'focus', ReceivedCostFile> {
  constructor({ receive, ...options }: CostDropFolderOptions) {
    super({
      ...options,
      label: 'cost drop folder',
      kinds: COST_FILES,
      receive: ({ name, stream }) => receive({ name, stream }),
      received: (name, received) => ({
        fields: { import: received.number, state: received.state, repeated: received.repeated },
        note: received.repeated
          ? { suffix: '.repeated.txt', text: `${name} holds the same bytes as the file imported as ${received.number} at ${received.createdAt} (now ${received.state}): nothing of it was imported again.\n` }
          : undefined,
      }),
    });
  }
}
