// User-assigned managed identity of the function app. It is created first and on its own so that
// every role assignment (storage, Service Bus, Key Vault, App Insights, PostgreSQL, Redis) can be in
// place before the app starts, and so the identity survives a re-creation of the app.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID of the identity (for identity blocks and keyVaultReferenceIdentity).')
output id string = identity.id

@description('Name of the identity; PostgreSQL uses it as the Entra role name.')
output name string = identity.name

@description('Object (principal) ID: the subject of role assignments, the Redis access-policy user.')
output principalId string = identity.properties.principalId

@description('Client (application) ID: what AZURE_CLIENT_ID and the *__clientId settings name.')
output clientId string = identity.properties.clientId
