/**
 * Loads the service map: the physical layer (network, storage, servers), the infrastructure VMs,
 * then each business service with its applications, databases and cloud resources.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AWS_ACCOUNT, AWS_REGION, AZURE_SUBSCRIPTION, CLOUD_HOURLY_LIST_MICRO, CLOUD_KINDS, type CloudKind } from '../data/cloud';
import { HOST_DOMAIN, INFRASTRUCTURE_COST_CENTRE, NETWORK_GROUPS, SERVER_GROUPS, STORAGE_ARRAYS } from '../data/estate';
import type { CostCentreCode } from '../data/organisation';
import {
  CI_STATUS, HYPERVISORS, INFRASTRUCTURE_GROUP, INFRASTRUCTURE_OWNERS, INFRASTRUCTURE_VMS, PHYSICAL_HOSTS, SERVER_STORAGE,
  SERVER_UPLINKS, SERVICES, type Workload,
} from '../data/service-map';
import type { AssetRecord } from './estate';
import { HEX, hostnames, insertRows, required, UPPER_ALNUM, type Context, type Random, type Row } from './support';

export interface CloudResource {
  ciId: string;
  name: string;
  kind: CloudKind;
  resourceId: string;
  hourlyListMicro: number | null;
  dailyListMicro: number | null;
  serviceName: string;
  /** The business service's CI: the one its cost is allocated to. */
  serviceId: string;
  costCentre: CostCentreCode;
}

export interface ServiceMapResult {
  ciCount: number;
  relationshipCount: number;
  cloud: CloudResource[];
  /** CI id by the asset key (hostname) behind it. */
  ciOfAsset: Map<string, string>;
}

function cloudResourceId(kind: CloudKind, name: string, slug: string, random: Random): string {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${AWS_REGION}:${AWS_ACCOUNT}:${rest}`;
  const azure = (type: string) => `/subscriptions/${AZURE_SUBSCRIPTION}/resourcegroups/rg-${slug}-prod/providers/${type}/${name}`;
  switch (kind) {
    case 'ec2': return arn('ec2', `instance/i-0${random.chars(HEX, 16)}`);
    case 'rds': return arn('rds', `db:${name}`);
    case 'elasticache': return arn('elasticache', `cluster:${name}`);
    case 's3': return `arn:aws:s3:::${name}`;
    case 'cloudfront': return `arn:aws:cloudfront::${AWS_ACCOUNT}:distribution/E${random.chars(UPPER_ALNUM, 13)}`;
    case 'lambda': return arn('lambda', `function:${name}`);
    case 'alb': return arn('elasticloadbalancing', `loadbalancer/app/${name}/${random.chars(HEX, 16)}`);
    case 'nlb': return arn('elasticloadbalancing', `loadbalancer/net/${name}/${random.chars(HEX, 16)}`);
    case 'azure-vm': return azure('microsoft.compute/virtualmachines');
    case 'azure-sql': return azure(`microsoft.sql/servers/sql-northwind-${slug}/databases`);
    case 'azure-app': return azure('microsoft.web/sites');
    case 'azure-storage': return azure('microsoft.storage/storageaccounts');
    case 'appgw': return azure('microsoft.network/applicationgateways');
  }
}

/** Cloud instances a workload runs on are named after it, as the providers' consoles would show them. */
function cloudInstanceNames(workload: Workload, kind: CloudKind): string[] {
  const count = workload.n ?? 1;
  switch (kind) {
    case 'azure-vm': return hostnames(`vm-${workload.name}`, count);
    case 'azure-app': return [`app-${workload.name}`];
    case 'azure-sql': return [`sqldb-${workload.name}`];
    case 'ec2': return hostnames(workload.name, count);
    default: return [`nw-${workload.name}`];
  }
}

/** Classes discovery finds on the network: their CIs carry a host name, the domain and a MAC address. */
const NETWORKED_CLASSES = ['server', 'virtual_machine', 'network_device', 'storage'];

/**
 * A host's MAC address, from its name rather than the PRNG (so no other demo value moves): a
 * locally administered address (02:…), stored as discovery compares it, twelve lower-case hex digits.
 */
const macOf = (name: string) => `02${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;

/** The data centre and office a hostname belongs to, for the hypervisors and switches it uses. */
const siteOf = (name: string): 'ams' | 'ber' => (name.startsWith('ber-') ? 'ber' : 'ams');

export async function insertServiceMap(
  trx: Knex.Transaction, ctx: Context, assets: Map<string, AssetRecord>, random: Random,
): Promise<ServiceMapResult> {
  const cis: Row[] = [];
  const ciByName = new Map<string, string>();
  const relationships: Row[] = [];
  const edges = new Set<string>();
  const cloud: CloudResource[] = [];
  const ciOfAsset = new Map<string, string>();
  const infra = required(ctx.group, INFRASTRUCTURE_GROUP);
  const owners = INFRASTRUCTURE_OWNERS;
  const itCostCentre = INFRASTRUCTURE_COST_CENTRE;

  const addCi = (fields: {
    name: string; ciClass: string; owner: string; supportGroup: string; costCentre: CostCentreCode;
    criticality?: string; assetKey?: string; environment?: string;
  }): string => {
    if (ciByName.has(fields.name)) throw new Error(`demo CI ${fields.name} is defined twice`);
    const id = randomUUID();
    ciByName.set(fields.name, id);
    if (fields.assetKey) ciOfAsset.set(fields.assetKey, id);
    cis.push({
      id,
      name: fields.name,
      ci_class: fields.ciClass,
      operational_status: CI_STATUS[fields.name] ?? 'operational',
      criticality: fields.criticality ?? null,
      owner_id: required(ctx.person, fields.owner),
      support_group_id: fields.supportGroup,
      asset_id: fields.assetKey ? required(assets, fields.assetKey).id : null,
      cost_centre_id: required(ctx.costCentre, fields.costCentre),
      environment: fields.environment ?? 'production',
      ...(NETWORKED_CLASSES.includes(fields.ciClass) ? { hostname: fields.name, dns_domain: HOST_DOMAIN, mac_address: macOf(fields.name) } : {}),
    });
    return id;
  };
  const link = (from: string, type: 'depends_on' | 'runs_on' | 'hosted_on' | 'uses', to: string) => {
    const key = `${from} ${type} ${to}`;
    if (edges.has(key)) return;
    edges.add(key);
    relationships.push({ from_ci_id: required(ciByName, from), to_ci_id: required(ciByName, to), type });
  };

  // Placement spreads over a pool round-robin, so it is stable and even.
  const cursors = new Map<string, number>();
  const nextOf = <T>(pool: T[], poolKey: string, count: number): T[] => {
    const start = cursors.get(poolKey) ?? 0;
    cursors.set(poolKey, start + count);
    return Array.from({ length: count }, (_, i) => pool[(start + i) % pool.length]);
  };

  // Physical layer: network first, then storage and servers that depend on it.
  const networkByPrefix = new Map(NETWORK_GROUPS.map((g) => [g.prefix, hostnames(g.prefix, g.count)]));
  for (const g of NETWORK_GROUPS) {
    required(networkByPrefix, g.prefix).forEach((name, i) => {
      addCi({ name, ciClass: 'network_device', owner: owners.network, supportGroup: infra, costCentre: itCostCentre, assetKey: name });
      if (!g.uplink) return;
      const uplinks = required(networkByPrefix, g.uplink);
      for (const uplink of g.uplinkAll ? uplinks : [uplinks[i % uplinks.length]]) link(name, 'depends_on', uplink);
    });
  }
  for (const s of STORAGE_ARRAYS) {
    addCi({ name: s.name, ciClass: 'storage', owner: owners.storage, supportGroup: infra, costCentre: itCostCentre, assetKey: s.name });
    for (const uplink of s.uplinks) link(s.name, 'depends_on', uplink);
  }
  const serversByPrefix = new Map<string, string[]>();
  for (const g of SERVER_GROUPS) {
    const names = hostnames(g.prefix, g.count);
    serversByPrefix.set(g.prefix, names);
    for (const name of names) {
      addCi({ name, ciClass: 'server', owner: owners.servers, supportGroup: infra, costCentre: g.costCentre, assetKey: name });
      const site = siteOf(name);
      for (const uplink of nextOf(SERVER_UPLINKS[site], `uplinks:${site}`, 1)[0]) link(name, 'depends_on', uplink);
    }
  }
  for (const { prefix, arrays } of SERVER_STORAGE) {
    const servers = required(serversByPrefix, prefix);
    servers.forEach((name, i) => link(name, 'depends_on', arrays[Math.floor((i * arrays.length) / servers.length)]));
  }

  const addVm = (name: string, costCentre: CostCentreCode, environment = 'production') => {
    addCi({ name, ciClass: 'virtual_machine', owner: owners.virtualMachines, supportGroup: infra, costCentre, environment });
    const site = siteOf(name);
    link(name, 'hosted_on', nextOf(required(serversByPrefix, HYPERVISORS[site]), `hypervisors:${site}`, 1)[0]);
  };
  for (const [environment, names] of Object.entries(INFRASTRUCTURE_VMS)) {
    for (const name of names) addVm(name, itCostCentre, environment);
  }

  for (const service of SERVICES) {
    const serviceGroup = required(ctx.group, service.supportGroup);
    const serviceId = addCi({ name: service.name, ciClass: 'business_service', criticality: service.criticality, owner: service.owner, supportGroup: serviceGroup, costCentre: service.costCentre });

    const addCloud = (name: string, kind: CloudKind, pricing: { hourlyListMicro?: number; dailyListMicro?: number }) => {
      const ciId = addCi({ name, ciClass: CLOUD_KINDS[kind].ciClass, owner: owners.cloud, supportGroup: infra, costCentre: service.costCentre });
      const resourceId = cloudResourceId(kind, name, service.slug, random);
      cis[cis.length - 1].cloud_resource_id = resourceId;
      cloud.push({
        ciId, name, kind, resourceId,
        hourlyListMicro: pricing.hourlyListMicro ?? null, dailyListMicro: pricing.dailyListMicro ?? null,
        serviceName: service.name, serviceId, costCentre: service.costCentre,
      });
    };
    for (const resource of service.cloud) {
      addCloud(resource.name, resource.kind, { dailyListMicro: resource.dailyMicro });
      if (CLOUD_KINDS[resource.kind].ciClass === 'load_balancer') link(service.name, 'depends_on', resource.name);
    }
    for (const lb of service.loadBalancers) {
      addCi({ name: lb.name, ciClass: 'load_balancer', owner: owners.loadBalancers, supportGroup: infra, costCentre: service.costCentre });
      link(service.name, 'depends_on', lb.name);
      for (const vm of lb.vms) link(lb.name, 'runs_on', vm);
    }

    const addWorkload = (workload: Workload, ciClass: 'application' | 'database') => {
      addCi({
        name: workload.name, ciClass, owner: service.appOwner, costCentre: service.costCentre,
        supportGroup: workload.supportGroup ? required(ctx.group, workload.supportGroup) : serviceGroup,
      });
      const count = workload.n ?? 1;
      const physicalPrefix = PHYSICAL_HOSTS[workload.on];
      if (workload.on === 'vm') {
        for (const vm of hostnames(workload.name, count)) {
          addVm(vm, service.costCentre);
          link(workload.name, 'runs_on', vm);
        }
      } else if (physicalPrefix) {
        for (const server of nextOf(required(serversByPrefix, physicalPrefix), physicalPrefix, count)) link(workload.name, 'runs_on', server);
      } else {
        const kind = workload.on as CloudKind;
        const hourlyListMicro = CLOUD_HOURLY_LIST_MICRO[workload.size ?? ''];
        if (hourlyListMicro === undefined) throw new Error(`demo workload ${workload.name} has no priced size`);
        for (const name of cloudInstanceNames(workload, kind)) {
          addCloud(name, kind, { hourlyListMicro });
          link(workload.name, 'runs_on', name);
        }
      }
    };
    for (const database of service.databases) addWorkload(database, 'database');
    for (const application of service.applications) {
      addWorkload(application, 'application');
      link(service.name, 'depends_on', application.name);
    }
    for (const workload of [...service.databases, ...service.applications]) {
      for (const used of workload.uses ?? []) link(workload.name, 'uses', used);
    }
    // Every VM-hosted application has one staging VM next to production.
    for (const application of service.applications) {
      if (application.on === 'vm' && !CI_STATUS[application.name]) addVm(`${application.name}-stg-01`, service.costCentre, 'staging');
    }
  }

  await insertRows(trx, 'configuration_items', cis);
  await insertRows(trx, 'ci_relationships', relationships);
  return { ciCount: cis.length, relationshipCount: relationships.length, cloud, ciOfAsset };
}
