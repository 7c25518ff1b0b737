/**
 * Northwind's cloud estate: the AWS account and Azure subscription, how each provider bills,
 * the kinds of resources it runs and their list prices.
 */

export type CloudKind = 'ec2' | 'rds' | 'elasticache' | 's3' | 'cloudfront' | 'lambda' | 'alb' | 'nlb'
  | 'azure-vm' | 'azure-sql' | 'azure-app' | 'azure-storage' | 'appgw';
export type CloudProvider = 'AWS' | 'Azure';

export const AWS_ACCOUNT = '418295730164';
export const AWS_REGION = 'eu-central-1';
export const AZURE_SUBSCRIPTION = 'c7b3e2a1-5d4f-4e6a-9b8c-2f1e0d3c4b5a';
/** The Azure billing account the subscription is billed to: Azure's FOCUS export names it, the subscription is the sub-account. */
export const AZURE_BILLING_ACCOUNT = '/providers/Microsoft.Billing/billingAccounts/84127593';
/** The asset manager who imports the cloud bills each month. */
export const CLOUD_BILLS_IMPORTED_BY = 'pieter.jansen';

/**
 * How each provider bills: the prefix of its cost records' source keys, its name, billing account
 * and sub-account as its FOCUS export writes them (the samples in demo/finops/ are such exports, so
 * a sample of a month replaces the demo's bill of that month), publisher and invoice issuer, the
 * region Northwind runs in, and the discount on list prices (AWS's is negotiated under the
 * Enterprise Discount Program).
 */
export const CLOUD_PROVIDERS: Record<CloudProvider, {
  keyPrefix: string; providerName: string; billingAccountId: string; subAccountId: string;
  publisher: string; invoiceIssuer: string; region: string; discountPercent: number;
}> = {
  AWS: {
    keyPrefix: 'aws', providerName: 'AWS', billingAccountId: AWS_ACCOUNT, subAccountId: AWS_ACCOUNT,
    publisher: 'Amazon Web Services', invoiceIssuer: 'Amazon Web Services EMEA SARL', region: 'Europe (Frankfurt)', discountPercent: 6,
  },
  Azure: {
    keyPrefix: 'azure', providerName: 'Microsoft', billingAccountId: AZURE_BILLING_ACCOUNT, subAccountId: `/subscriptions/${AZURE_SUBSCRIPTION}`,
    publisher: 'Microsoft', invoiceIssuer: 'Microsoft Ireland Operations Ltd', region: 'West Europe', discountPercent: 0,
  },
};

/** What a kind of resource is on the bill and in the service map; `region` where it is not the provider's. */
export const CLOUD_KINDS: Record<CloudKind, {
  provider: CloudProvider; serviceName: string; serviceCategory: string; resourceType: string; ciClass: 'cloud_resource' | 'load_balancer';
  region?: string;
}> = {
  ec2: { provider: 'AWS', serviceName: 'Amazon Elastic Compute Cloud', serviceCategory: 'Compute', resourceType: 'Instance', ciClass: 'cloud_resource' },
  rds: { provider: 'AWS', serviceName: 'Amazon Relational Database Service', serviceCategory: 'Databases', resourceType: 'DB Instance', ciClass: 'cloud_resource' },
  elasticache: { provider: 'AWS', serviceName: 'Amazon ElastiCache', serviceCategory: 'Databases', resourceType: 'Cache Cluster', ciClass: 'cloud_resource' },
  s3: { provider: 'AWS', serviceName: 'Amazon Simple Storage Service', serviceCategory: 'Storage', resourceType: 'Bucket', ciClass: 'cloud_resource' },
  cloudfront: { provider: 'AWS', serviceName: 'Amazon CloudFront', serviceCategory: 'Networking', resourceType: 'Distribution', ciClass: 'cloud_resource', region: 'Global' },
  lambda: { provider: 'AWS', serviceName: 'AWS Lambda', serviceCategory: 'Compute', resourceType: 'Function', ciClass: 'cloud_resource' },
  alb: { provider: 'AWS', serviceName: 'Elastic Load Balancing', serviceCategory: 'Networking', resourceType: 'Application Load Balancer', ciClass: 'load_balancer' },
  nlb: { provider: 'AWS', serviceName: 'Elastic Load Balancing', serviceCategory: 'Networking', resourceType: 'Network Load Balancer', ciClass: 'load_balancer' },
  'azure-vm': { provider: 'Azure', serviceName: 'Virtual Machines', serviceCategory: 'Compute', resourceType: 'Virtual machine', ciClass: 'cloud_resource' },
  'azure-sql': { provider: 'Azure', serviceName: 'Azure SQL Database', serviceCategory: 'Databases', resourceType: 'SQL database', ciClass: 'cloud_resource' },
  'azure-app': { provider: 'Azure', serviceName: 'Azure App Service', serviceCategory: 'Compute', resourceType: 'App Service', ciClass: 'cloud_resource' },
  'azure-storage': { provider: 'Azure', serviceName: 'Storage', serviceCategory: 'Storage', resourceType: 'Storage account', ciClass: 'cloud_resource' },
  appgw: { provider: 'Azure', serviceName: 'Application Gateway', serviceCategory: 'Networking', resourceType: 'Application gateway', ciClass: 'load_balancer' },
};

/** List price per hour in millionths of a euro, by instance size. */
export const CLOUD_HOURLY_LIST_MICRO: Record<string, number> = {
  't3.medium': 48_100,
  'm6i.large': 115_200,
  'c6i.xlarge': 194_400,
  'r6i.xlarge': 304_300,
  'db.t4g.medium': 80_200,
  'db.r6g.large': 301_500,
  'cache.r6g.large': 249_800,
  Standard_D2s_v5: 110_400,
  Standard_D4s_v5: 220_800,
  P1v3: 169_700,
  GP_Gen5_2: 505_300,
  GP_S_Gen5_1: 126_400,
};

