/**
 * Northwind's service map: five business services with their applications, databases and cloud
 * resources, the shared infrastructure VMs, and how servers, storage and hypervisors connect.
 */
import type { CloudKind } from './cloud';
import type { CostCentreCode, GroupName } from './organisation';

export type CiStatus = 'operational' | 'non_operational' | 'repair_in_progress';

export type Hosting = 'vm' | 'k8s' | 'ch' | 'sql' | 'pg' | 'ec2' | 'rds' | 'elasticache' | 'azure-vm' | 'azure-sql' | 'azure-app';

/** Physical hosting lands on the live servers with this hostname prefix. */
export const PHYSICAL_HOSTS: Partial<Record<Hosting, string>> = { k8s: 'ams-k8s', ch: 'ams-ch', sql: 'ams-sql', pg: 'ams-pg' };

export interface Workload {
  name: string;
  on: Hosting;
  /** Instances: VMs, servers or cloud instances it runs on. */
  n?: number;
  /** Instance size of cloud hosting, priced by CLOUD_HOURLY_LIST_MICRO. */
  size?: string;
  /** Databases or cloud resources of the same service it uses. */
  uses?: string[];
  supportGroup?: GroupName;
}

export interface ServiceSeed {
  name: string;
  slug: string;
  criticality: 'tier_1' | 'tier_2' | 'tier_3' | 'tier_4';
  costCentre: CostCentreCode;
  owner: string;
  appOwner: string;
  supportGroup: GroupName;
  applications: Workload[];
  databases: Workload[];
  /** Cloud resources besides the workloads' own instances; load balancers among them front the service. */
  cloud: { name: string; kind: CloudKind; dailyMicro: number }[];
  /** On-premises HAProxy load balancers and the VMs they run on. */
  loadBalancers: { name: string; vms: string[] }[];
}

export const SERVICES: ServiceSeed[] = [
  {
    name: 'Northwind Insights Platform', slug: 'insights', criticality: 'tier_1', costCentre: 'CC-5000',
    owner: 'priya.nair', appOwner: 'hannah.mueller', supportGroup: 'Infrastructure',
    applications: [
      { name: 'insights-web', on: 'vm', n: 3, uses: ['cdn-insights'] },
      { name: 'insights-api', on: 'vm', n: 3, uses: ['insights-postgres', 'insights-redis'] },
      { name: 'query-engine', on: 'ch', n: 6, uses: ['insights-clickhouse'] },
      { name: 'report-scheduler', on: 'k8s', n: 2, uses: ['insights-postgres'] },
      { name: 'auth-service', on: 'vm', n: 2, uses: ['identity-postgres'], supportGroup: 'Security' },
      { name: 'notification-service', on: 'ec2', n: 2, size: 't3.medium', uses: ['insights-redis'] },
      { name: 'export-service', on: 'ec2', n: 2, size: 'm6i.large', uses: ['nw-insights-exports'] },
      { name: 'admin-console', on: 'vm', n: 1, uses: ['insights-postgres'] },
      { name: 'usage-metering', on: 'k8s', n: 2, uses: ['metering-db'] },
      { name: 'search-service', on: 'vm', n: 2, uses: ['search-elasticsearch'] },
    ],
    databases: [
      { name: 'insights-postgres', on: 'pg', n: 1, uses: ['nw-insights-backups'] },
      { name: 'insights-clickhouse', on: 'ch', n: 3 },
      { name: 'insights-redis', on: 'vm', n: 2 },
      { name: 'identity-postgres', on: 'pg', n: 1 },
      { name: 'metering-db', on: 'rds', size: 'db.r6g.large' },
      { name: 'search-elasticsearch', on: 'vm', n: 3 },
    ],
    cloud: [
      { name: 'nw-insights-exports', kind: 's3', dailyMicro: 3_400_000 },
      { name: 'nw-insights-backups', kind: 's3', dailyMicro: 6_100_000 },
      { name: 'cdn-insights', kind: 'cloudfront', dailyMicro: 9_800_000 },
      { name: 'alb-insights-exports', kind: 'alb', dailyMicro: 1_900_000 },
    ],
    loadBalancers: [
      { name: 'lb-insights-web', vms: ['ams-haproxy-01', 'ams-haproxy-02'] },
      { name: 'lb-insights-api', vms: ['ams-haproxy-01', 'ams-haproxy-02'] },
    ],
  },
  {
    name: 'Customer Data Pipeline', slug: 'pipeline', criticality: 'tier_2', costCentre: 'CC-2000',
    owner: 'lukas.becker', appOwner: 'aisha.khan', supportGroup: 'Infrastructure',
    applications: [
      { name: 'ingest-gateway', on: 'ec2', n: 3, size: 'c6i.xlarge', uses: ['nw-raw-landing', 'ingest-authorizer'] },
      { name: 'kafka-connect', on: 'k8s', n: 3, uses: ['kafka-cluster'] },
      { name: 'stream-processor', on: 'k8s', n: 3, uses: ['kafka-cluster', 'nw-lakehouse'] },
      { name: 'batch-etl', on: 'ec2', n: 2, size: 'r6i.xlarge', uses: ['nw-lakehouse', 'pipeline-metadata-db'] },
      { name: 'airflow', on: 'vm', n: 2, uses: ['airflow-postgres'] },
      { name: 'data-quality-monitor', on: 'vm', n: 1, uses: ['pipeline-metadata-db'] },
      { name: 'schema-registry', on: 'k8s', n: 2, uses: ['kafka-cluster'] },
      { name: 'connector-hub', on: 'ec2', n: 2, size: 'm6i.large', uses: ['connector-db'] },
      { name: 'lakehouse-catalog', on: 'vm', n: 2, uses: ['catalog-postgres', 'nw-lakehouse'] },
      { name: 'feature-store', on: 'ec2', n: 1, size: 'r6i.xlarge', uses: ['feature-redis'] },
    ],
    databases: [
      { name: 'kafka-cluster', on: 'vm', n: 3 },
      { name: 'pipeline-metadata-db', on: 'rds', size: 'db.t4g.medium' },
      { name: 'airflow-postgres', on: 'pg', n: 1 },
      { name: 'connector-db', on: 'rds', size: 'db.t4g.medium' },
      { name: 'catalog-postgres', on: 'vm', n: 1 },
      { name: 'feature-redis', on: 'elasticache', size: 'cache.r6g.large' },
    ],
    cloud: [
      { name: 'nw-raw-landing', kind: 's3', dailyMicro: 4_700_000 },
      { name: 'nw-lakehouse', kind: 's3', dailyMicro: 12_300_000 },
      { name: 'ingest-authorizer', kind: 'lambda', dailyMicro: 850_000 },
      { name: 'nlb-ingest', kind: 'nlb', dailyMicro: 1_400_000 },
    ],
    loadBalancers: [],
  },
  {
    name: 'Finance & Billing', slug: 'finance', criticality: 'tier_2', costCentre: 'CC-3000',
    owner: 'sophie.laurent', appOwner: 'hugo.lambert', supportGroup: 'Infrastructure',
    applications: [
      { name: 'erp-finance', on: 'vm', n: 2, uses: ['erp-sql'] },
      { name: 'invoicing', on: 'azure-app', size: 'P1v3', uses: ['billing-db'] },
      { name: 'payment-connector', on: 'azure-app', size: 'P1v3', uses: ['billing-db'] },
      { name: 'expense-management', on: 'azure-app', size: 'P1v3', uses: ['expense-db'] },
      { name: 'payroll-interface', on: 'vm', n: 1, uses: ['erp-sql'] },
      { name: 'financial-reporting', on: 'vm', n: 2, uses: ['finance-dwh', 'stnwfinancearchive'] },
      { name: 'tax-engine', on: 'vm', n: 1, uses: ['erp-sql'] },
      { name: 'procurement-portal', on: 'azure-app', size: 'P1v3', uses: ['erp-sql'] },
      { name: 'budget-planner', on: 'vm', n: 1, uses: ['finance-dwh'] },
      { name: 'legacy-reporting', on: 'vm', n: 1, uses: ['finance-dwh'] },
    ],
    databases: [
      { name: 'erp-sql', on: 'sql', n: 2 },
      { name: 'finance-dwh', on: 'sql', n: 2 },
      { name: 'billing-db', on: 'azure-sql', size: 'GP_Gen5_2' },
      { name: 'expense-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [
      { name: 'stnwfinancearchive', kind: 'azure-storage', dailyMicro: 1_600_000 },
      { name: 'agw-finance', kind: 'appgw', dailyMicro: 5_900_000 },
    ],
    loadBalancers: [{ name: 'lb-erp', vms: ['ams-haproxy-03', 'ams-haproxy-04'] }],
  },
  {
    name: 'Sales CRM & Reporting', slug: 'sales', criticality: 'tier_3', costCentre: 'CC-4000',
    owner: 'emma.johansson', appOwner: 'mateo.silva', supportGroup: 'Service Desk',
    applications: [
      { name: 'crm', on: 'azure-vm', n: 2, size: 'Standard_D4s_v5', uses: ['crm-db'] },
      { name: 'sales-dashboards', on: 'vm', n: 1, uses: ['sales-mart'] },
      { name: 'quote-generator', on: 'azure-app', size: 'P1v3', uses: ['crm-db'] },
      { name: 'lead-scoring', on: 'k8s', n: 1, uses: ['sales-mart'] },
      { name: 'email-campaigns', on: 'azure-app', size: 'P1v3', uses: ['crm-db'] },
      { name: 'contract-repository', on: 'vm', n: 1, uses: ['contracts-db'] },
      { name: 'partner-portal', on: 'azure-app', size: 'P1v3', uses: ['partner-db'] },
      { name: 'customer-success-hub', on: 'vm', n: 1, uses: ['crm-db'] },
      { name: 'renewal-tracker', on: 'vm', n: 1, uses: ['sales-mart'] },
      { name: 'forecast-model', on: 'k8s', n: 1, uses: ['sales-mart'] },
    ],
    databases: [
      { name: 'crm-db', on: 'azure-sql', size: 'GP_Gen5_2' },
      { name: 'sales-mart', on: 'sql', n: 1 },
      { name: 'contracts-db', on: 'vm', n: 1 },
      { name: 'partner-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [{ name: 'agw-sales', kind: 'appgw', dailyMicro: 5_900_000 }],
    loadBalancers: [],
  },
  {
    name: 'Internal Collaboration', slug: 'collaboration', criticality: 'tier_4', costCentre: 'CC-1000',
    owner: 'marco.rossi', appOwner: 'fatima.elamrani', supportGroup: 'Service Desk',
    applications: [
      { name: 'intranet', on: 'vm', n: 2, uses: ['intranet-db'] },
      { name: 'wiki', on: 'vm', n: 1, uses: ['wiki-db'] },
      { name: 'file-share', on: 'vm', n: 2 },
      { name: 'chat-bridge', on: 'azure-vm', n: 1, size: 'Standard_D2s_v5' },
      { name: 'meeting-room-booking', on: 'vm', n: 1, uses: ['intranet-db'] },
      { name: 'service-portal', on: 'vm', n: 2, uses: ['itsm-db'] },
      { name: 'print-service', on: 'vm', n: 2 },
      { name: 'hr-portal', on: 'azure-app', size: 'P1v3', uses: ['hr-db'] },
      { name: 'learning-portal', on: 'azure-app', size: 'P1v3', uses: ['hr-db'] },
      { name: 'onboarding-tracker', on: 'vm', n: 1, uses: ['itsm-db'] },
    ],
    databases: [
      { name: 'intranet-db', on: 'vm', n: 1 },
      { name: 'wiki-db', on: 'vm', n: 1 },
      { name: 'itsm-db', on: 'pg', n: 1 },
      { name: 'hr-db', on: 'azure-sql', size: 'GP_S_Gen5_1' },
    ],
    cloud: [],
    loadBalancers: [{ name: 'lb-intranet', vms: ['ams-haproxy-03', 'ams-haproxy-04'] }],
  },
];

/** Shared infrastructure VMs (IT Operations) by environment; names starting ber- run in Berlin. */
export const INFRASTRUCTURE_VMS: Record<'production' | 'development', string[]> = {
  production: [
    'ams-haproxy-01', 'ams-haproxy-02', 'ams-haproxy-03', 'ams-haproxy-04',
    'ams-ad-01', 'ams-ad-02', 'ber-ad-01', 'ams-vcenter-01', 'ams-monitoring-01', 'ams-monitoring-02',
    'ams-backup-proxy-01', 'ams-jump-01', 'ams-log-01', 'ams-log-02', 'ams-patch-01', 'ams-pki-01',
    'ber-fileserver-01', 'legacy-ftp-01', 'ams-artifactory-01',
  ],
  development: [
    'ams-ci-runner-01', 'ams-ci-runner-02', 'ams-ci-runner-03', 'ams-ci-runner-04',
    'dev-sandbox-01', 'dev-sandbox-02', 'dev-sandbox-03', 'dev-sandbox-04', 'dev-sandbox-05', 'dev-sandbox-06',
  ],
};

/** CIs that are not operational, by name; everything else is. */
export const CI_STATUS: Record<string, CiStatus> = {
  'legacy-reporting': 'non_operational',
  'legacy-reporting-01': 'non_operational',
  'legacy-ftp-01': 'non_operational',
  'dev-sandbox-03': 'non_operational',
  'ams-hq-ap-04': 'non_operational',
  'print-service-02': 'repair_in_progress',
};

/** The Infrastructure group supports the shared infrastructure; these people own its CIs. */
export const INFRASTRUCTURE_GROUP: GroupName = 'Infrastructure';
export const INFRASTRUCTURE_OWNERS = {
  network: 'mehmet.yilmaz',
  storage: 'sara.lindqvist',
  servers: 'jan.kowalski',
  virtualMachines: 'sara.lindqvist',
  /** On-premises HAProxy load balancers. */
  loadBalancers: 'mehmet.yilmaz',
  cloud: 'oliver.brown',
};

/** Servers depend on a pair of switches at their site; Amsterdam's alternate between the two leaf pairs. */
export const SERVER_UPLINKS: Record<'ams' | 'ber', string[][]> = {
  ams: [['ams-dc-leaf-01', 'ams-dc-leaf-02'], ['ams-dc-leaf-03', 'ams-dc-leaf-04']],
  ber: [['ber-sw-01', 'ber-sw-02']],
};

/**
 * Hypervisors keep their datastores on the NetApp arrays and backup servers write to the backup
 * array: the servers of a prefix are split over its arrays in order, in equal runs.
 */
export const SERVER_STORAGE: { prefix: string; arrays: string[] }[] = [
  { prefix: 'ams-esx', arrays: ['ams-netapp-01', 'ams-netapp-02'] },
  { prefix: 'ber-esx', arrays: ['ber-netapp-01'] },
  { prefix: 'ams-bkp', arrays: ['ams-netapp-bkp-01'] },
];

/** VMs run on the hypervisors of their site (the servers with this prefix). */
export const HYPERVISORS: Record<'ams' | 'ber', string> = { ams: 'ams-esx', ber: 'ber-esx' };
