// Key Vault in RBAC mode holding the application's secrets, and the Key Vault Secrets User role
// for the app identity. The function app reads them through Key Vault references
// (@Microsoft.KeyVault(SecretUri=...)) resolved by the platform with the same identity, so no
// secret value is ever stored in an app setting or in deployment outputs.
//
// A secret is written only when its parameter is non-empty. So the first deployment passes every
// secret, and later deployments may leave them empty to keep the values already in the vault
// (rotating JWT_SECRET logs everybody out; changing DATA_ENCRYPTION_KEY makes the stored
// third-party tokens unreadable). The references always point at the versionless secret URI, so a
// new version set in the vault is picked up by the app (within 24 h, or at once on restart).

@description('Key Vault name: 3-24 letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Enable purge protection: deleted secrets and the vault itself cannot be purged during the retention period (irreversible once on).')
param enablePurgeProtection bool

@description('Object (principal) ID of the app identity that reads the secrets.')
param principalId string

@secure()
@description('JWT_SECRET: HMAC key for access tokens, at least 32 bytes. Empty keeps the current value.')
param jwtSecret string

@secure()
@description('JWT_SECRET_PREVIOUS: the signing key being rotated out. Empty keeps the current value (or leaves it unset).')
param jwtSecretPrevious string

@secure()
@description('DATA_ENCRYPTION_KEY: standard base64 of 32 random bytes. Empty keeps the current value.')
param dataEncryptionKey string

@secure()
@description('DATA_ENCRYPTION_KEY_PREVIOUS: the key being rotated out. Empty keeps the current value (or leaves it unset).')
param dataEncryptionKeyPrevious string

@secure()
@description('GOOGLE_CLIENT_SECRET. Empty keeps the current value (or leaves it unset).')
param googleClientSecret string

@secure()
@description('YOUTUBE_CLIENT_SECRET. Empty keeps the current value (or leaves it unset).')
param youtubeClientSecret string

@secure()
@description('SMTP_PASSWORD. Empty keeps the current value (or leaves it unset).')
param smtpPassword string

// Built-in role: Key Vault Secrets User (read secret values).
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

// Key Vault secret names allow letters, digits and hyphens only.
var secretNames = {
  jwt: 'jwt-secret'
  jwtPrevious: 'jwt-secret-previous'
  dataEncryption: 'data-encryption-key'
  dataEncryptionPrevious: 'data-encryption-key-previous'
  google: 'google-client-secret'
  youtube: 'youtube-client-secret'
  smtp: 'smtp-password'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection cannot be turned off once on; the API accepts only true or null.
    enablePurgeProtection: enablePurgeProtection ? true : null
    // App Service resolves Key Vault references over the public endpoint unless the app is
    // VNet-integrated, and it is not an "Azure trusted service" for the firewall bypass.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource jwtSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(jwtSecret)) {
  parent: vault
  name: secretNames.jwt
  properties: {
    value: jwtSecret
    contentType: 'text/plain'
  }
}

resource dataEncryptionKeyValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(dataEncryptionKey)) {
  parent: vault
  name: secretNames.dataEncryption
  properties: {
    value: dataEncryptionKey
    contentType: 'base64'
  }
}

resource googleClientSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(googleClientSecret)) {
  parent: vault
  name: secretNames.google
  properties: {
    value: googleClientSecret
    contentType: 'text/plain'
  }
}

resource jwtSecretPreviousValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(jwtSecretPrevious)) {
  parent: vault
  name: secretNames.jwtPrevious
  properties: {
    value: jwtSecretPrevious
    contentType: 'text/plain'
  }
}

resource dataEncryptionKeyPreviousValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(dataEncryptionKeyPrevious)) {
  parent: vault
  name: secretNames.dataEncryptionPrevious
  properties: {
    value: dataEncryptionKeyPrevious
    contentType: 'base64'
  }
}

resource youtubeClientSecretValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(youtubeClientSecret)) {
  parent: vault
  name: secretNames.youtube
  properties: {
    value: youtubeClientSecret
    contentType: 'text/plain'
  }
}

resource smtpPasswordValue 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(smtpPassword)) {
  parent: vault
  name: secretNames.smtp
  properties: {
    value: smtpPassword
    contentType: 'text/plain'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Function app identity resolves Key Vault references.'
  }
}

@description('Name of the vault.')
output name string = vault.name

@description('URI of the vault, with a trailing slash.')
output uri string = vault.properties.vaultUri

// Versionless secret URIs (no values). Built from the vault URI rather than read from the
// conditional secret resources, so they are valid whether or not this deployment wrote a value.
@description('Versionless URIs of the secrets, keyed by the app setting that references them.')
output secretUris object = {
  JWT_SECRET: '${vault.properties.vaultUri}secrets/${secretNames.jwt}'
  JWT_SECRET_PREVIOUS: '${vault.properties.vaultUri}secrets/${secretNames.jwtPrevious}'
  DATA_ENCRYPTION_KEY: '${vault.properties.vaultUri}secrets/${secretNames.dataEncryption}'
  DATA_ENCRYPTION_KEY_PREVIOUS: '${vault.properties.vaultUri}secrets/${secretNames.dataEncryptionPrevious}'
  GOOGLE_CLIENT_SECRET: '${vault.properties.vaultUri}secrets/${secretNames.google}'
  YOUTUBE_CLIENT_SECRET: '${vault.properties.vaultUri}secrets/${secretNames.youtube}'
  SMTP_PASSWORD: '${vault.properties.vaultUri}secrets/${secretNames.smtp}'
}
