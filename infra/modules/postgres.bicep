// Azure Database for PostgreSQL Flexible Server with Microsoft Entra authentication only (password
// authentication disabled, so there is no administrator password anywhere), TLS required, the
// application database, and firewall rules.
//
// Who can log in:
//   - appIdentityIsAdmin = true (default): the function app's user-assigned identity is an Entra
//     administrator. Its PostgreSQL role is named after the identity and is created by the service,
//     so `handler migrate` and the app work right after deployment with no manual step. The price:
//     the app's role is a member of azure_pg_admin (not a superuser on Flexible Server, but it can
//     create roles and databases).
//   - appIdentityIsAdmin = false: only the principals in entraAdmins are administrators; one of them
//     creates the app's role once after deployment (see infra/README.md, "Least-privilege database
//     role"). At least one entry in entraAdmins is then required, or nobody can log in.
//
// Network: public endpoint with the "allow Azure services" rule (0.0.0.0), because a Flex
// Consumption app without virtual-network integration has no fixed outbound address. That rule
// admits any Azure-hosted client, so authentication (Entra tokens only) is the real gate. Moving to
// VNet integration + private access is the next hardening step (README, "Limitations").
//
// Server operations on Flexible Server are serialised: concurrent child updates fail with
// "ServerBusy"/conflict errors, so every child below waits for the previous one.

@description('Server name: 3-63 lowercase letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(63)
param name string

@description('Azure region of the server.')
param location string

@description('Tags applied to the server.')
param tags object

@description('PostgreSQL major version.')
@allowed([
  '14'
  '15'
  '16'
])
param version string

@description('Compute SKU name, e.g. Standard_B1ms (Burstable), Standard_D2ds_v5 (GeneralPurpose).')
param skuName string

@description('Compute tier matching skuName.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string

@description('Storage size in GB (grows automatically when nearly full).')
@allowed([
  32
  64
  128
  256
  512
  1024
  2048
  4096
  8192
  16384
])
param storageSizeGB int

@description('Days of point-in-time-restore backups (7-35).')
@minValue(7)
@maxValue(35)
param backupRetentionDays int

@description('Store backups geo-redundantly (only where the region pair supports it; cannot be changed later).')
param geoRedundantBackup bool

@description('High availability mode; Burstable supports only Disabled.')
@allowed([
  'Disabled'
  'SameZone'
  'ZoneRedundant'
])
param highAvailabilityMode string

@description('Name of the application database.')
param databaseName string

@description('Make the app identity an Entra administrator (see the header comment).')
param appIdentityIsAdmin bool

@description('Name of the app identity: its PostgreSQL role name.')
param appIdentityName string

@description('Object (principal) ID of the app identity.')
param appIdentityPrincipalId string

@description('Extra Entra administrators: objects with objectId, principalName (UPN, group or app display name) and principalType (User, Group or ServicePrincipal).')
param entraAdmins array

@description('Extra firewall rules: objects with name, startIpAddress and endIpAddress (e.g. an operator workstation).')
param firewallRules array

var appAdmin = appIdentityIsAdmin ? [
  {
    objectId: appIdentityPrincipalId
    principalName: appIdentityName
    principalType: 'ServicePrincipal'
  }
] : []
var administrators = concat(appAdmin, entraAdmins)

// Password authentication stays off: no administrator password exists anywhere.
var passwordAuth = 'Disabled'

// Without password authentication an Entra administrator is the only way in (main.bicep checks
// the same before anything is created; this guards the module on its own).
assert someoneCanLogIn = passwordAuth == 'Enabled' || !empty(administrators)

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: passwordAuth
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup ? 'Enabled' : 'Disabled'
    }
    highAvailability: {
      mode: highAvailabilityMode
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// On by default on Flexible Server; pinned here so nobody can switch it off by hand unnoticed
// (a redeployment puts it back). ssl_min_protocol_version already defaults to TLSv1.2.
resource requireSecureTransport 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    requireSecureTransport
  ]
}

@batchSize(1)
resource extraFirewallRules 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = [
  for rule in firewallRules: {
    parent: server
    name: rule.name
    properties: {
      startIpAddress: rule.startIpAddress
      endIpAddress: rule.endIpAddress
    }
    dependsOn: [
      allowAzureServices
    ]
  }
]

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    allowAzureServices
    extraFirewallRules
  ]
}

// The resource name of an Entra administrator is the principal's object ID; the PostgreSQL role
// the service creates is named principalName.
@batchSize(1)
resource entraAdministrators 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = [
  for admin in administrators: {
    parent: server
    name: admin.objectId
    properties: {
      principalName: admin.principalName
      principalType: admin.principalType
      tenantId: tenant().tenantId
    }
    dependsOn: [
      database
    ]
  }
]

@description('Name of the server.')
output name string = server.name

@description('Fully qualified host name of the server.')
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName

@description('Name of the application database.')
output databaseName string = database.name
