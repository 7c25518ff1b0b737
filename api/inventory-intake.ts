/**
 * Receiving an inventory batch (issue 16): a feed's file, CSV or JSON lines, streamed and staged by
 * the import machinery (api/imports.ts) and run by the import workflow as kind 'inventory'. A batch
 * the sender names (a batch key) is received once: the same key again answers the batch it named.
 * Shared by POST /inventory/batches, the web upload and the watched folder.
 */
import type { Readable } from 'node:stream';
import type { Role } from '../domain/directory';
import {
  ADMIN_ONLY_SOURCES, batchKeyInput, droppedFileBatchKey, inventoryHeaderRefusal, inventorySourceName, observedAtRefusal, sourceSenderRefusal,
} from '../domain/inventory-intake';
import type { ImportFormat, OnInvalidRows } from '../domain/master-data';
import { INVENTORY_SOURCES, type InventorySource } from '../domain/reconciliation';
import { findImport, type ImportSummary } from '../model/imports';
import { copyPreviewedBatch, findLiveInventoryBatch, personWithRoles } from '../model/reconciliation/intake';
import { isUniqueViolation } from '../platform/database';
import { InventoryDropFolder } from '../platform/inventory-drop-folder';
import type { Logger } from '../platform/logger';
import type { AppDeps } from './app';
import { HttpError, badRequest, conflict, notFound } from './errors';
import { receiveFile, startImport } from './imports';

/** Who sends batches: feeds use the API key of a person with one of these roles. */
export const INVENTORY_SENDERS: readonly Role[] = ['asset_manager', 'admin'];
/** Who reads every batch and its report, whoever sent it. */
export const INVENTORY_READERS: readonly Role[] = ['asset_manager', 'process_owner', 'admin'];

export interface InventoryBatchRequest {
  /** The feed; one of INVENTORY_SOURCES. */
  source: string;
  format: ImportFormat;
  dryRun: boolean;
  /** skip_rows unless said otherwise: one bad row of a feed must not block the scan. */
  onInvalidRows?: OnInvalidRows;
  /** The sender's name for the batch; the same one again is the same batch. None: every upload is a new batch. */
  batchKey?: string | null;
  /** When the source saw what the file reports (ISO instant); now when absent. */
  observedAt?: string | null;
  fileName: string | null;
  /** The sender, whose roles say which sources they may send as. */
  requestedBy: Sender;
  file: Readable;
}

/** A person sending or applying a batch. */
export interface Sender {
  id: string;
  email: string;
  roles: readonly Role[];
}

/** A batch as received; `replayed` when the request named a batch received before, which is answered as it stands. */
export type ReceivedBatch = ImportSummary & { replayed: boolean };

type IntakeDeps = Pick<AppDeps, 'db' | 'temporal' | 'taskQueue'>;

const INVALID_HEADER = 'invalid_header';

function checkHeader(header: string[]): string[] {
  const refusal = inventoryHeaderRefusal(header);
  if (refusal) throw new HttpError(400, INVALID_HEADER, refusal.message, refusal.details);
  return header.map((column) => column.trim());
}

/** 403 when the sender may not send as this source (manual and hr are for admins). */
function checkSender(source: InventorySource, sender: Sender): void {
  const refusal = sourceSenderRefusal(source, sender.roles);
  if (refusal) throw new HttpError(403, 'forbidden', refusal, [{ path: 'source', message: refusal }]);
}

/** The request's source, batch key and observation time, checked: 400 with the field and why, 403 for a source the sender may not send as. */
function batchOf(request: InventoryBatchRequest, now: Date): { source: InventorySource; batchKey: string | null; observedAt: string } {
  const source = inventorySourceName.safeParse(request.source);
  if (!source.success) throw badRequest(`source: ${source.error.issues[0].message}`, [{ path: 'source', message: source.error.issues[0].message }]);
  checkSender(source.data, request.requestedBy);
  let batchKey: string | null = null;
  if (request.batchKey !== undefined && request.batchKey !== null) {
    const key = batchKeyInput.safeParse(request.batchKey);
    if (!key.success) throw badRequest(`batchKey: ${key.error.issues[0].message}`, [{ path: 'batchKey', message: key.error.issues[0].message }]);
    batchKey = key.data;
  }
  const observedAt = request.observedAt ?? now.toISOString();
  const refusal = observedAtRefusal(observedAt, now);
  if (refusal) throw badRequest(`observedAt: ${refusal}`, [{ path: 'observedAt', message: refusal }]);
  return { source: source.data, batchKey, observedAt: new Date(observedAt).toISOString() };
}

/**
 * Receives a batch: checks the source, key and observation time, then streams and stages the file
 * as an import of kind 'inventory' and starts its workflow. A batch key a live batch (not a dry run,
 * not failed) holds answers that batch, replayed, and stages nothing; two uploads racing with one
 * key meet at imports_batch_key_unique and the second answers the first. A dry run never replays:
 * it writes nothing. Refusals as receiveImport's, and 400 invalid_header with the columns taken.
 */
export async function receiveInventoryBatch(deps: IntakeDeps, request: InventoryBatchRequest): Promise<ReceivedBatch> {
  const batch = batchOf(request, new Date());
  const replayable = batch.batchKey !== null && !request.dryRun;
  const live = () => findLiveInventoryBatch(deps.db, batch.source, batch.batchKey!);
  if (replayable) {
    const earlier = await live();
    if (earlier) {
      // The body is not wanted: let the upload finish unread.
      request.file.resume();
      return { ...earlier, replayed: true };
    }
  }
  try {
    const summary = await receiveFile(deps, { kind: 'inventory', checkHeader, inventory: batch }, {
      format: request.format, dryRun: request.dryRun, onInvalidRows: request.onInvalidRows ?? 'skip_rows', fileName: request.fileName,
      requestedBy: { id: request.requestedBy.id, email: request.requestedBy.email }, file: request.file,
    });
    return { ...summary, replayed: false };
  } catch (error) {
    if (replayable && isUniqueViolation(error, 'imports_batch_key_unique')) {
      const earlier = await live();
      if (earlier) return { ...earlier, replayed: true };
    }
    throw error;
  }
}

/**
 * Applies a previewed dry run: the same rows become a real batch with the dry run's source,
 * observation time and batch key, and its workflow starts ("dry run first, then apply the same
 * file"). Applied once: again, it answers the batch it became (replayed), as does a batch key a
 * live batch holds already. 404 no such batch; 403 when the one applying may not send as its
 * source; 409 not_previewed when it is not a previewed dry run.
 */
export async function applyPreviewedBatch(deps: IntakeDeps, dryRunId: string, sender: Sender): Promise<ReceivedBatch> {
  const requestedBy = { id: sender.id, email: sender.email };
  const source = (await findImport(deps.db, dryRunId))?.inventory?.source;
  if (source) checkSender(source, sender);
  const replay = async (importId: string): Promise<ReceivedBatch> => ({ ...(await findImport(deps.db, importId))!, replayed: true });
  let copied;
  try {
    copied = await copyPreviewedBatch(deps.db, dryRunId, requestedBy);
  } catch (error) {
    if (!isUniqueViolation(error, 'imports_batch_key_unique')) throw error;
    const dryRun = (await findImport(deps.db, dryRunId))!;
    const earlier = await findLiveInventoryBatch(deps.db, dryRun.inventory!.source, dryRun.inventory!.batchKey!);
    if (!earlier) throw error;
    return { ...earlier, replayed: true };
  }
  switch (copied.outcome) {
    case 'not_found':
      throw notFound(`no inventory batch ${dryRunId}`);
    case 'not_previewed':
      throw conflict('not_previewed', copied.summary.dryRun
        ? `batch ${dryRunId} is ${copied.summary.state}: only a dry run that has finished its preview can be applied`
        : `batch ${dryRunId} is not a dry run: it is applied already as it arrived`, { state: copied.summary.state, dryRun: copied.summary.dryRun });
    case 'applied_before':
      return replay(copied.importId);
    case 'copied': {
      const summary = await startImport(deps, 'inventory', copied.importId, copied.rowsTotal, {
        format: copied.format, dryRun: false, onInvalidRows: copied.onInvalidRows, fileName: copied.fileName, requestedBy,
      });
      return { ...summary, replayed: false };
    }
  }
}

export interface DropFolderSettings {
  dir: string;
  /** The email of the person the folder's batches are recorded as: an active asset manager or admin. */
  as: string;
  everyMs: number;
}

/**
 * Starts watching the inventory drop folder (platform/inventory-drop-folder.ts), each file received
 * as a batch of its folder's source, keyed by its name, size and modification time, recorded as
 * `settings.as`. That person is checked first: when they are not an active asset manager or admin,
 * it says so in the log and the folder stays unwatched (answers undefined); should they lose the
 * role later, files wait. Files in the folder of a source they may not send as are refused.
 */
export async function watchInventoryDropFolder(deps: IntakeDeps & { logger: Logger }, settings: DropFolderSettings): Promise<InventoryDropFolder | undefined> {
  const { db, logger } = deps;
  const whyNot = async () => {
    const person = await personWithRoles(db, settings.as);
    if (!person) return `INVENTORY_DROP_AS names nobody: no person has the email ${settings.as}`;
    if (!person.active) return `INVENTORY_DROP_AS names ${person.email}, who is not active`;
    if (!person.roles.some((role) => INVENTORY_SENDERS.includes(role as Role))) return `INVENTORY_DROP_AS names ${person.email}, who is not an asset manager or admin`;
    return undefined;
  };
  const refusal = await whyNot();
  if (refusal) {
    logger.error({ dir: settings.dir }, `the inventory drop folder is not watched: ${refusal}`);
    return undefined;
  }
  const sender = (await personWithRoles(db, settings.as))!;
  const refused = ADMIN_ONLY_SOURCES.filter((source) => sourceSenderRefusal(source, sender.roles as Role[]));
  if (refused.length > 0) {
    logger.warn({ dir: settings.dir, sources: refused }, `inventory drop folder: files in ${refused.map((s) => `${s}/`).join(' and ')} will be refused: ${sender.email} is not an admin`);
  }
  const folder = new InventoryDropFolder({
    dir: settings.dir, sources: INVENTORY_SOURCES, everyMs: settings.everyMs, logger, whyNot,
    receive: async (file) => {
      // The roles as they are now: whyNot has just found the person active.
      const roles = ((await personWithRoles(db, settings.as))?.roles ?? []) as Role[];
      return receiveInventoryBatch(deps, {
        source: file.source, format: file.format, dryRun: false, batchKey: droppedFileBatchKey(file.name, file.size, file.modifiedAt), fileName: file.name,
        requestedBy: { id: sender.id, email: sender.email, roles }, file: file.stream,
      });
    },
  });
  await folder.start();
  return folder;
}
