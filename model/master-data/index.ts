/** Every list of master data the API, imports and exports know, by name. */
import type { MasterDataKindName } from '../../domain/master-data';
import { costCentres } from './cost-centres';
import type { MasterDataKind } from './kind';

const KINDS: MasterDataKind[] = [
  costCentres,
];

export const MASTER_DATA: ReadonlyMap<MasterDataKindName, MasterDataKind> = new Map(KINDS.map((kind) => [kind.name, kind]));

export function masterDataKind(name: MasterDataKindName): MasterDataKind {
  const kind = MASTER_DATA.get(name);
  if (!kind) throw new Error(`no master data kind ${name}`);
  return kind;
}
