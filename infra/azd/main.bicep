// The azd entry point (azure.yaml: infra.path infra/azd). It deploys ../main.bicep unchanged and
// passes the values azd keeps per environment (.azure/<env>/.env, filled by
// infra/azd/hooks/preprovision.sh and `azd env set`), so `az deployment group create` with
// ../main.parameters.json and `azd up` deploy the same templates. Outputs are re-exported under the
// names the azd hooks read (azd stores each output in the environment under its name).
targetScope = 'resourceGroup'

@minLength(2)
@maxLength(10)
param namePrefix string

@description('The azd environment name (AZURE_ENV_NAME), tagged on every resource as azd-env-name.')
param environmentName string

param location string = resourceGroup().location
param staticWebAppLocation string = 'westeurope'
param frontendHosting string = 'staticWebApp'
param keyVaultPurgeProtection bool = true
param postgresAppIdentityIsAdmin bool = true

@secure()
param jwtSecret string = ''
@secure()
param dataEncryptionKey string = ''
@secure()
param jwtSecretPrevious string = ''
param jwtSecretRotation bool = false
@secure()
param dataEncryptionKeyPrevious string = ''
param dataEncryptionKeyRotation bool = false
param googleClientId string = ''
@secure()
param googleClientSecret string = ''
param youtubeClientId string = ''
@secure()
param youtubeClientSecret string = ''
param smtpHost string = ''
param smtpUsername string = ''
@secure()
param smtpPassword string = ''
param smtpFrom string = ''

module app '../main.bicep' = {
  name: 'videofn'
  params: {
    namePrefix: namePrefix
    location: location
    staticWebAppLocation: staticWebAppLocation
    frontendHosting: frontendHosting
    keyVaultPurgeProtection: keyVaultPurgeProtection
    postgresAppIdentityIsAdmin: postgresAppIdentityIsAdmin
    tags: {
      'azd-env-name': environmentName
    }
    jwtSecret: jwtSecret
    dataEncryptionKey: dataEncryptionKey
    jwtSecretPrevious: jwtSecretPrevious
    jwtSecretRotation: jwtSecretRotation
    dataEncryptionKeyPrevious: dataEncryptionKeyPrevious
    dataEncryptionKeyRotation: dataEncryptionKeyRotation
    googleClientId: googleClientId
    googleClientSecret: googleClientSecret
    youtubeClientId: youtubeClientId
    youtubeClientSecret: youtubeClientSecret
    smtpHost: smtpHost
    smtpUsername: smtpUsername
    smtpPassword: smtpPassword
    smtpFrom: smtpFrom
  }
}

output AZURE_RESOURCE_GROUP string = resourceGroup().name
output FUNCTION_APP_NAME string = app.outputs.functionAppName
output FUNCTION_APP_HOST_NAME string = app.outputs.functionAppHostName
output STATIC_WEB_APP_NAME string = app.outputs.staticWebAppName
output FRONTEND_HOSTING string = app.outputs.frontendHosting
output FRONTEND_URL string = app.outputs.frontendUrl
output STORAGE_ACCOUNT_URL string = app.outputs.storageAccountUrl
