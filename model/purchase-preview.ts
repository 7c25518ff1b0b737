/**
 * The budget check of a purchase request, as one read: each line priced by chooseUnitPrice, the
 * total, the cost centre's budget before and after, the spare seats to offer, and the flags the
 * approval rules test. The workflow's checkPurchase activity stores what this finds; the web UI's
 * Check shows it for lines not yet submitted, so both say the same.
 */
import type { Knex } from 'knex';
import { budgetPosition } from '../domain/budget';
import { chooseUnitPrice, licenceReuseOffer, pricedTotal, type ChosenPrice, type PriceSource, type PurchaseAssessment } from '../domain/procurement';
import { budgetFacts } from './budgets';
import { licencePositions } from './licences';

export interface LineToAssess {
  lineId: string;
  lineNumber: number;
  description: string;
  hardwareModelId: string | null;
  softwareProductId: string | null;
  vendorId: string | null;
  quantity: number;
  reusedUnits: number;
  /** As registered: the quote of an item off the catalogue; what a catalogue line had before it was priced. */
  unitPriceMinor: number;
  priceSource: PriceSource;
}

export interface AssessedLine extends LineToAssess {
  contractId: string | null;
  /** Why the line has no price in the request's currency; null when it was priced. */
  refusal: string | null;
}

export interface PurchaseToAssess {
  costCentreId: string;
  costCentreCode: string;
  currency: string;
  lines: LineToAssess[];
}

export interface PurchaseAssessmentResult {
  lines: AssessedLine[];
  /** What stops the request being bought as asked (no price, an inactive vendor, the total beyond bounds, a budget in another currency); null when nothing does. */
  problem: string | null;
  assessment: PurchaseAssessment;
}

/** The list price of a catalogue line and the contract prices of its vendor (any vendor's when it names none), or null off the catalogue. */
async function priceFacts(db: Knex, line: LineToAssess) {
  const list: { unitPriceMinor: number; currency: string } | undefined = line.hardwareModelId
    ? await db('hardware_models').where({ id: line.hardwareModelId }).first('list_price_minor as unitPriceMinor', 'currency')
    : line.softwareProductId
      ? await db('software_products').where({ id: line.softwareProductId }).first('unit_price_minor as unitPriceMinor', 'currency')
      : undefined;
  if (!list) return { list: null, contractPrices: [] };
  const contractPrices = await db('contract_prices as cp').join('contracts as c', 'c.id', 'cp.contract_id')
    .where(line.hardwareModelId ? { 'cp.hardware_model_id': line.hardwareModelId } : { 'cp.software_product_id': line.softwareProductId })
    .modify((q) => (line.vendorId ? q.where('c.vendor_id', line.vendorId) : q))
    .whereNull('cp.retired_at').whereNull('c.retired_at')
    .orderBy('c.id')
    .select('c.id as contractId', 'cp.unit_price_minor as unitPriceMinor', 'cp.currency', 'c.starts_on as startsOn', 'c.ends_on as endsOn');
  return { list, contractPrices };
}

/** Prices, totals and checks a purchase request as of `now`; writes nothing. */
export async function assessPurchase(db: Knex, request: PurchaseToAssess, now: Date): Promise<PurchaseAssessmentResult> {
  const onDate = now.toISOString().slice(0, 10);
  let problem: string | null = null;
  const lines: AssessedLine[] = [];
  for (const line of request.lines) {
    const { list, contractPrices } = await priceFacts(db, line);
    const price: ChosenPrice = chooseUnitPrice({
      currency: request.currency,
      onDate,
      list,
      contractPrices,
      quotedUnitPriceMinor: line.priceSource === 'quoted' ? line.unitPriceMinor : undefined,
    });
    if ('refusal' in price) {
      problem ??= `line ${line.lineNumber} (${line.description}): ${price.refusal}`;
      lines.push({ ...line, contractId: null, refusal: price.refusal });
      continue;
    }
    lines.push({ ...line, unitPriceMinor: price.unitPriceMinor, priceSource: price.source, contractId: price.contractId, refusal: null });
  }
  const vendorIds = [...new Set(lines.map((l) => l.vendorId).filter((id): id is string => id !== null))];
  const vendors: { id: string; name: string; active: boolean }[] = await db('vendors').whereIn('id', vendorIds).select('id', 'name', 'active');
  const inactive = vendors.filter((v) => !v.active).map((v) => v.name);
  if (inactive.length) problem ??= `vendor ${inactive.join(', ')} is not active: no order can be placed with it`;
  const withContract = new Set(
    (await db('contracts').whereIn('vendor_id', vendorIds).where('starts_on', '<=', onDate).where('ends_on', '>=', onDate).whereNull('retired_at').distinct('vendor_id'))
      .map((c: { vendor_id: string }) => c.vendor_id),
  );
  const priced = pricedTotal(lines, request.currency);
  if ('refusal' in priced) problem ??= priced.refusal;
  const totalMinor = 'totalMinor' in priced ? priced.totalMinor : null;
  const facts = await budgetFacts(db, request.costCentreId, request.currency, now);
  // A total beyond the bound is refused above; the month is still shown as it stands.
  const position = totalMinor === null
    ? { ...budgetPosition(facts, 0, request.currency), remainingAfterMinor: null }
    : budgetPosition(facts, totalMinor, request.currency);
  if (position.notComparable) problem ??= `the budget of ${request.costCentreCode}: ${position.notComparable}`;
  const productIds = lines.map((l) => l.softwareProductId).filter((id): id is string => id !== null);
  const spare = productIds.length
    ? (await licencePositions(db, productIds)).map((p) => ({ productId: p.productId, spareUnits: p.spareUnits }))
    : [];
  const stillToBuy = lines.map((l) => ({ lineId: l.lineId, productId: l.softwareProductId, quantity: l.quantity - l.reusedUnits }));
  const assessment: PurchaseAssessment = {
    totalMinor,
    currency: request.currency,
    ...facts,
    ...position,
    offCatalogue: lines.some((l) => !l.hardwareModelId && !l.softwareProductId),
    newVendor: vendorIds.some((id) => !withContract.has(id)),
    reuseOffer: licenceReuseOffer(stillToBuy, spare),
  };
  return { lines, problem, assessment };
}
