// Flex Consumption plan (FC1) and the function app: runtime "custom" (the Go handler), a
// user-assigned managed identity for everything (host storage, deployment package, Service Bus,
// Key Vault references, Application Insights), HTTPS only.
//
// Flex Consumption specifics honoured here:
//   - runtime, scale and deployment live in functionAppConfig; the legacy app settings
//     FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE,
//     WEBSITE_CONTENT* and site properties such as linuxFxVersion/alwaysOn are not supported on
//     this plan and must not be set;
//   - the package is fetched from a blob container (created by the host storage module) with the
//     user-assigned identity, and mounted read-only at /home/site/wwwroot;
//   - one app per plan.
// All role assignments the app needs are made by the modules that create the target resources;
// main.bicep passes their outputs in, so this app is created only after they exist.

@description('Name of the function app (globally unique; becomes <name>.azurewebsites.net).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region of the plan and app (must offer Flex Consumption).')
param location string

@description('Tags applied to the plan and the app.')
param tags object

@description('Resource ID of the user-assigned identity.')
param identityId string

@description('Client ID of the user-assigned identity.')
param identityClientId string

@description('Name of the host storage account (AzureWebJobsStorage).')
param hostStorageAccountName string

@description('Blob endpoint of the host storage account, with trailing slash.')
param hostStorageBlobEndpoint string

@description('Blob container of the host storage account that holds the deployment package.')
param deploymentContainerName string

@description('Maximum number of instances the app scales out to (Flex Consumption accepts 40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Application settings of the handler (string values; secrets only as Key Vault references).')
param appSettings object

@description('Allow basic-auth (user/password) publishing on the SCM endpoint. Keep false: Core Tools and the Azure CLI publish with an Entra token.')
param allowBasicPublishingCredentials bool

// Settings the Functions host itself reads. They win over appSettings on a name clash.
var hostSettings = {
  // AzureWebJobsStorage through the identity (no connection string, no key).
  AzureWebJobsStorage__accountName: hostStorageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Telemetry with Entra auth (the component has local auth disabled).
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Selects the user-assigned identity for azidentity's DefaultAzureCredential /
  // ManagedIdentityCredential in the handler (blob, Service Bus sender, PostgreSQL and Redis tokens).
  AZURE_CLIENT_ID: identityClientId
  // host.json's routePrefix is empty (the catch-all `frontend` function serves the static export
  // at /): the host's own placeholder page at / must not answer instead.
  AzureWebJobsDisableHomepage: 'true'
}

var settings = union(appSettings, hostSettings)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    // The Static Web App linked backend requires a publicly reachable app; authentication added by
    // the link restricts HTTP callers to the Static Web App.
    publicNetworkAccess: 'Enabled'
    // Key Vault references are resolved with the user-assigned identity (default would be a
    // system-assigned identity, which this app does not have).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: map(items(settings), setting => {
        name: setting.key
        value: setting.value
      })
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// No basic-auth publishing (FTP does not exist on Flex Consumption; this covers the SCM endpoint).
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: allowBasicPublishingCredentials
  }
}

@description('Name of the function app.')
output name string = app.name

@description('Resource ID of the function app.')
output id string = app.id

@description('Default host name of the function app (<name>.azurewebsites.net).')
output defaultHostName string = app.properties.defaultHostName
