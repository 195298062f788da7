// A StorageV2 account that only accepts Entra ID (no shared keys, hence no account-key SAS: SAS
// must be user-delegation SAS), TLS 1.2+, HTTPS only and no anonymous blob access; private blob
// containers; optional blob-service CORS rules; blob and container soft delete; and data-plane role
// assignments for one principal at account scope.
//
// main.bicep deploys it twice, so the platform's data and the users' data never share an account:
//   - host storage: AzureWebJobsStorage (leases, timers, host keys) and the Flex deployment package;
//   - media storage: the videos container that browsers upload to with SAS, with CORS for the
//     frontend origin. Only this account's URL reaches the handler (AZURE_STORAGE_ACCOUNT_URL), so a
//     SAS bug can never expose the deployment package or host state.
//
// Lifecycle rules are deliberately absent: uncommitted blocks of an abandoned upload are garbage-
// collected by the service after 7 days, and committed blobs are owned by rows in PostgreSQL
// (file_storage), so deleting them by age here would break the application's bookkeeping.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Replication SKU, e.g. Standard_LRS or Standard_ZRS (ZRS where the region supports it).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string

@description('Names of private blob containers to create.')
param containerNames array

@description('Blob service CORS rules (objects with allowedOrigins, allowedMethods, allowedHeaders, exposedHeaders, maxAgeInSeconds); empty for none.')
param corsRules array

@description('Days a deleted blob or container stays recoverable; 0 disables soft delete.')
@minValue(0)
@maxValue(365)
param softDeleteRetentionDays int

@description('Object (principal) ID that receives the data-plane roles below.')
param principalId string

@description('Built-in role definition GUIDs assigned to principalId at the scope of this account.')
param roleDefinitionIds array

var retentionPolicy = softDeleteRetentionDays > 0 ? {
  enabled: true
  days: softDeleteRetentionDays
} : {
  enabled: false
}

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Browsers upload with SAS and the Flex app has no virtual network here, so the endpoint is
    // public; every request still needs an Entra token or a user-delegation SAS.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    cors: {
      corsRules: corsRules
    }
    deleteRetentionPolicy: retentionPolicy
    containerDeleteRetentionPolicy: retentionPolicy
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in roleDefinitionIds: {
    name: guid(account.id, principalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

@description('Name of the storage account.')
output name string = account.name

@description('Resource ID of the storage account.')
output id string = account.id

@description('Primary blob endpoint, with a trailing slash (https://<name>.blob.core.windows.net/).')
output blobEndpoint string = account.properties.primaryEndpoints.blob
