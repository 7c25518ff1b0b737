/** Every list of master data the API, imports and exports know, by name. */
import type { MasterDataKindName } from '../../domain/master-data';
import { assets } from './assets';
import { budgets } from './budgets';
import { ciRelationships } from './ci-relationships';
import { configurationItems } from './configuration-items';
import { contractPrices } from './contract-prices';
import { contracts } from './contracts';
import { costCentres } from './cost-centres';
import { entitlements } from './entitlements';
import { hardwareModels } from './hardware-models';
import type { MasterDataKind } from './kind';
import { softwareProducts } from './software-products';
import { vendors } from './vendors';

const KINDS: MasterDataKind[] = [
  costCentres,
  budgets,
  vendors,
  contracts,
  contractPrices,
  hardwareModels,
  softwareProducts,
  entitlements,
  configurationItems,
  ciRelationships,
  assets,
];

export const MASTER_DATA: ReadonlyMap<MasterDataKindName, MasterDataKind> = new Map(KINDS.map((kind) => [kind.name, kind]));

export function masterDataKind(name: MasterDataKindName): MasterDataKind {
  const kind = MASTER_DATA.get(name);
  if (!kind) throw new Error(`no master data kind ${name}`);
  return kind;
}
