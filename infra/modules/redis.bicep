// Azure Managed Redis (Microsoft.Cache/redisEnterprise, Balanced tier) with Microsoft Entra
// authentication and access keys disabled, TLS only.
//
// Why Azure Managed Redis and not Azure Cache for Redis (Microsoft.Cache/redis): the classic service
// is on its retirement path and Azure Managed Redis is its successor; both support Entra ID, and
// here no access key is ever needed, so nothing Redis-related goes to Key Vault.
//
// How the app authenticates (the handler has to implement this; see infra/README.md):
//   REDIS_URL = rediss://<identity object ID>@<host>:10000/0 and REDIS_AUTH = entra. The client
//   connects with TLS, user name = the identity's object ID, password = an Entra access token for
//   the scope https://redis.azure.com/.default obtained with the managed identity (AZURE_CLIENT_ID),
//   and re-authenticates (AUTH) before the token expires (~1 h). The access-policy assignment below
//   is what makes that object ID a Redis user with the built-in "default" policy (all data commands).
//
// Clustering: EnterpriseCluster exposes a single endpoint, so the plain (non-cluster) go-redis
// client works; OSSCluster would need a cluster-aware client.
// Eviction: NoEviction. The data is rate-limit counters, OAuth hand-off codes and import progress,
// all with TTLs; evicting a rate-limit counter under memory pressure would silently lift the limit,
// so a full cache makes writes fail loudly (health check 503) instead.

@description('Name of the Azure Managed Redis cluster (1-60 letters, digits and single hyphens).')
@minLength(1)
@maxLength(60)
param name string

@description('Azure region of the cluster.')
param location string

@description('Tags applied to the cluster.')
param tags object

@description('Azure Managed Redis SKU, e.g. Balanced_B0 (smallest), Balanced_B1, Balanced_B3.')
param skuName string

@description('Replicate data across two nodes (SLA); disable only for dev/test.')
param highAvailability bool

@description('Object (principal) ID of the app identity that gets the "default" data access policy.')
param principalId string

resource cluster 'Microsoft.Cache/redisEnterprise@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability ? 'Enabled' : 'Disabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-04-01' = {
  parent: cluster
  // Azure Managed Redis has exactly one database per cluster and it must be named "default".
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'EnterpriseCluster'
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Disabled'
  }
}

resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-04-01' = {
  parent: database
  // Letters and digits only (1-60).
  name: 'appidentity'
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: principalId
    }
  }
}

@description('Host name of the Redis endpoint.')
output hostName string = cluster.properties.hostName

@description('TLS port of the database endpoint.')
output port int = database.properties.port
