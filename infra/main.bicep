// Everything the video platform needs in one resource group, wired with a single user-assigned
// managed identity and no shared keys, passwords or connection strings:
//
//   identity ──┬─ host storage   (AzureWebJobsStorage + Flex deployment package)
//              ├─ media storage  (videos container, browser uploads with user-delegation SAS, CORS)
//              ├─ Service Bus    (imports, video-processing, mail queues; SAS auth disabled)
//              ├─ PostgreSQL     (Flexible Server, Entra auth only)
//              ├─ Redis          (Azure Managed Redis, Entra auth only)
//              ├─ Key Vault      (JWT_SECRET, DATA_ENCRYPTION_KEY, GOOGLE_CLIENT_SECRET, SMTP_PASSWORD)
//              └─ App Insights   (Entra-only ingestion) + Log Analytics
//   Static Web App (Next.js) ── linked backend ──> Flex Consumption function app (custom handler)
//   (or, with frontendHosting = 'functionApp', no Static Web App: the function app serves the
//   static export itself, FRONTEND_DIR)
//
// Deploy: see infra/README.md.

targetScope = 'resourceGroup'

metadata description = 'Video platform: Flex Consumption custom-handler function app, storage, Service Bus, PostgreSQL, Redis, Key Vault, monitoring and a Static Web App frontend.'

// ---------------------------------------------------------------------------------------------
// General
// ---------------------------------------------------------------------------------------------

@description('Prefix of every resource name: 2-10 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen (e.g. "videofn", "vfn-prod"); the namePrefixMakesValidNames assert rejects anything else. A hash of the resource group and this prefix is appended, so names are unique and stable per resource group.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'videofn'

@description('Region of every resource except the Static Web App. It must offer Flex Consumption, Azure Managed Redis and PostgreSQL Flexible Server (e.g. swedencentral, northeurope, eastus2).')
param location string = resourceGroup().location

@description('Region of the Static Web App resource (offered in a few regions only; content is served from a global edge either way).')
@allowed([
  'centralus'
  'eastus2'
  'eastasia'
  'westeurope'
  'westus2'
])
param staticWebAppLocation string = 'westeurope'

@description('Tags added to every resource (merged over application and managed-by tags).')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------------------------

@description('Maximum instances of the Flex Consumption app (40-1000: Flex Consumption rejects a maximum below 40). This is a scale cap, not the database budget: every instance holds its own PostgreSQL pool, so the connection budget is set with postgresPoolMaxConns or PgBouncer (infra/README.md, "Connection budget").')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Allow basic-auth publishing credentials on the SCM endpoint. Keep false; set true only for a deployment tool that cannot publish with an Entra token.')
param allowBasicPublishingCredentials bool = false

@description('LOG_LEVEL of the handler.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('YTDLP_PATH: absolute path of the pinned yt-dlp inside the deployed package (Flex mounts the package read-only at /home/site/wwwroot). The handler copies this file to a temporary directory, makes the copy executable and runs the copy.')
param ytdlpPath string = '/home/site/wwwroot/tools/yt-dlp'

@description('FFMPEG_PATH: absolute path of the pinned static ffmpeg inside the deployed package (make package FFMPEG_BINARY=...); copied and made executable like yt-dlp, always run sandboxed.')
param ffmpegPath string = '/home/site/wwwroot/tools/ffmpeg'

@description('FFPROBE_PATH: absolute path of the pinned static ffprobe inside the deployed package (make package FFPROBE_BINARY=...).')
param ffprobePath string = '/home/site/wwwroot/tools/ffprobe'

@description('IMPORT_MAX_BYTES: largest video a URL import may store, in bytes.')
@minValue(1)
param importMaxBytes int = 2147483648

@description('UPLOAD_MAX_BYTES: largest direct upload, in bytes.')
@minValue(1)
param uploadMaxBytes int = 5368709120

// ---------------------------------------------------------------------------------------------
// Frontend and origins
// ---------------------------------------------------------------------------------------------

@description('Who serves the frontend (a Next.js static export) on the API\'s origin. staticWebApp: an Azure Static Web App (Standard) whose linked backend forwards /api/* to the function app. functionApp: no Static Web App; the function app serves the export from its package\'s www folder (FRONTEND_DIR, the catch-all `frontend` function) with the same headers and Content-Security-Policy. Azure documents linked backends for Consumption, Premium and Dedicated plans, not Flex Consumption: use functionApp if linking fails.')
@allowed([
  'staticWebApp'
  'functionApp'
])
param frontendHosting string = 'staticWebApp'

@description('Origin of the frontend when a custom domain is bound to the Static Web App (e.g. https://app.example.com, no trailing slash). Empty uses the Static Web App default host name. Drives FRONTEND_URL, GOOGLE_REDIRECT_URL and storage CORS.')
param frontendCustomOrigin string = ''

@description('ALLOWED_ORIGINS: extra origins allowed to call the API cross-origin with credentials. The frontend is same-origin through the Static Web App, so this is normally empty.')
param allowedOrigins array = []

@description('Extra origins allowed by the media storage CORS rule, besides the frontend (e.g. http://localhost:3000 for a local frontend against a dev environment). Keep empty in production.')
param extraStorageCorsOrigins array = []

// ---------------------------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------------------------

@description('BLOB_CONTAINER: container for uploaded and imported videos.')
@minLength(3)
@maxLength(63)
param blobContainerName string = 'videos'

@description('Replication of both storage accounts (Standard_ZRS where the region supports it is the production choice).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Days deleted videos (blobs) stay recoverable; 0 disables soft delete.')
@minValue(0)
@maxValue(365)
param blobSoftDeleteRetentionDays int = 7

// ---------------------------------------------------------------------------------------------
// Service Bus
// ---------------------------------------------------------------------------------------------

@description('IMPORT_QUEUE: queue of URL-import jobs.')
param importQueueName string = 'imports'

@description('PROCESSING_QUEUE: queue of video-processing jobs.')
param processingQueueName string = 'video-processing'

@description('MAIL_QUEUE: queue that wakes the mail-sender function for each mail of the outbox.')
param mailQueueName string = 'mail'

@description('PUBLISH_QUEUE: queue of scheduled posts, each message delivered at the post time (scheduled enqueue time).')
param publishQueueName string = 'publish'

@description('Grant the app identity Azure Service Bus Data Owner on the namespace (besides Data Sender and Data Receiver). The Functions scale controller reads queue length with the identity of the ServiceBusConnection; Microsoft lists Data Owner for identity-based Service Bus triggers and its Flex Consumption Service Bus sample grants it. false keeps send/receive only, and scale-out then lags behind a growing queue (infra/README.md, "Service Bus scaling").')
param serviceBusGrantDataOwner bool = true

@description('Deliveries of a message before Service Bus dead-letters it.')
@minValue(1)
@maxValue(100)
param serviceBusMaxDeliveryCount int = 5

@description('Duplicate-detection window (ISO 8601): a send with a MessageId already seen in this window is dropped.')
param serviceBusDuplicateDetectionWindow string = 'PT10M'

@description('Message time to live (ISO 8601); expired messages are dead-lettered.')
param serviceBusMessageTimeToLive string = 'P14D'

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

@description('PostgreSQL major version.')
@allowed([
  '14'
  '15'
  '16'
])
param postgresVersion string = '16'

@description('PostgreSQL compute SKU (Standard_B1ms = Burstable, 1 vCore, 2 GiB).')
param postgresSkuName string = 'Standard_B1ms'

@description('PostgreSQL compute tier matching postgresSkuName.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@description('PostgreSQL storage in GB.')
@allowed([
  32
  64
  128
  256
  512
  1024
])
param postgresStorageSizeGB int = 32

@description('Days of PostgreSQL point-in-time-restore backups.')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('Geo-redundant PostgreSQL backups (fixed at creation; not in every region).')
param postgresGeoRedundantBackup bool = false

@description('PostgreSQL high availability (Burstable supports only Disabled).')
@allowed([
  'Disabled'
  'SameZone'
  'ZoneRedundant'
])
param postgresHighAvailabilityMode string = 'Disabled'

@description('Name of the application database.')
param postgresDatabaseName string = 'videofn'

@description('Make the app identity a PostgreSQL Entra administrator (works with no manual step). Set false for a least-privilege app role created after deployment by an administrator from postgresEntraAdmins (infra/README.md).')
param postgresAppIdentityIsAdmin bool = true

@description('Additional PostgreSQL Entra administrators, e.g. an operators group: [{ "objectId": "...", "principalName": "pg-admins", "principalType": "Group" }].')
param postgresEntraAdmins array = []

@description('Additional PostgreSQL firewall rules, e.g. an operator workstation: [{ "name": "ops", "startIpAddress": "203.0.113.7", "endIpAddress": "203.0.113.7" }].')
param postgresFirewallRules array = []

@description('pool_max_conns in DATABASE_URL: connections per function app instance. This, not maximumInstanceCount, is the knob of the PostgreSQL connection budget: instances x postgresPoolMaxConns <= max_connections - reserved (infra/README.md, "Connection budget").')
@minValue(1)
@maxValue(50)
param postgresPoolMaxConns int = 5

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

@description('Azure Managed Redis SKU (Balanced_B0 is the smallest).')
param redisSkuName string = 'Balanced_B0'

@description('Azure Managed Redis high availability (two nodes, SLA). Disable only for dev/test.')
param redisHighAvailability bool = true

// ---------------------------------------------------------------------------------------------
// Secrets and optional integrations
// ---------------------------------------------------------------------------------------------

@secure()
@description('JWT_SECRET (at least 32 bytes, e.g. openssl rand -base64 48). Required on the first deployment; empty later keeps the value in Key Vault.')
param jwtSecret string = ''

@secure()
@description('DATA_ENCRYPTION_KEY: standard base64 of 32 random bytes (openssl rand -base64 32). Required on the first deployment; empty later keeps the value in Key Vault. Never change it once tokens are stored.')
param dataEncryptionKey string = ''

@secure()
@description('JWT_SECRET_PREVIOUS: the signing key being rotated out (the old jwtSecret), stored in Key Vault. Empty keeps the current value (or leaves it unset). docs/operations.md, "Rotate keys".')
param jwtSecretPrevious string = ''

@description('True while a JWT_SECRET rotation is under way: the handler gets JWT_SECRET_PREVIOUS (from Key Vault) and still accepts access tokens signed with it.')
param jwtSecretRotation bool = false

@secure()
@description('DATA_ENCRYPTION_KEY_PREVIOUS: the key being rotated out (the old dataEncryptionKey), stored in Key Vault. Empty keeps the current value (or leaves it unset).')
param dataEncryptionKeyPrevious string = ''

@description('True while a DATA_ENCRYPTION_KEY rotation is under way: the handler gets DATA_ENCRYPTION_KEY_PREVIOUS (from Key Vault) and still opens tokens sealed under it. README.md, "Social accounts".')
param dataEncryptionKeyRotation bool = false

@description('YOUTUBE_CLIENT_ID; empty means YouTube accounts cannot be connected.')
param youtubeClientId string = ''

@secure()
@description('YOUTUBE_CLIENT_SECRET (needed with youtubeClientId on the first deployment; empty later keeps the value in Key Vault).')
param youtubeClientSecret string = ''

@description('GOOGLE_CLIENT_ID; empty disables Google sign-in.')
param googleClientId string = ''

@secure()
@description('GOOGLE_CLIENT_SECRET (needed with googleClientId on the first deployment; empty later keeps the value in Key Vault).')
param googleClientSecret string = ''

@description('SMTP_HOST; empty means mails are only logged.')
param smtpHost string = ''

@description('SMTP_PORT.')
@minValue(1)
@maxValue(65535)
param smtpPort int = 587

@description('SMTP_USERNAME (SMTP_PASSWORD comes from Key Vault when this is set).')
param smtpUsername string = ''

@secure()
@description('SMTP_PASSWORD (needed with smtpUsername on the first deployment; empty later keeps the value in Key Vault).')
param smtpPassword string = ''

@description('SMTP_FROM: sender address, required when smtpHost is set.')
param smtpFrom string = ''

@description('Enable Key Vault purge protection (recommended for production; once on it cannot be turned off, and a deleted vault keeps its name for 90 days).')
param keyVaultPurgeProtection bool = true

@description('Days Log Analytics keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var prefix = toLower(namePrefix)
// 13 lowercase letters and digits, stable for a given resource group and prefix.
var suffix = uniqueString(resourceGroup().id, prefix)
// Storage accounts and Key Vault have tight name rules (no hyphens / 24 characters).
var compactPrefix = take(replace(prefix, '-', ''), 7)

var names = {
  identity: 'id-${prefix}-${suffix}'
  logAnalytics: 'log-${prefix}-${suffix}'
  appInsights: 'appi-${prefix}-${suffix}'
  hostStorage: 'st${compactPrefix}fn${suffix}'
  mediaStorage: 'st${compactPrefix}md${suffix}'
  serviceBus: 'sb-${prefix}-${suffix}'
  postgres: 'psql-${prefix}-${suffix}'
  redis: 'redis-${prefix}-${suffix}'
  keyVault: 'kv-${take(compactPrefix, 6)}-${suffix}'
  plan: 'plan-${prefix}-${suffix}'
  functionApp: 'func-${prefix}-${suffix}'
  staticWebApp: 'stapp-${prefix}-${suffix}'
}

// ---------------------------------------------------------------------------------------------
// Input checks: Bicep `assert` statements (an experimental feature, enabled by
// infra/bicepconfig.json, "experimentalFeaturesEnabled": { "assertions": true }). ARM evaluates them
// when the deployment starts, before any resource is created, and fails it naming the assert. Each
// one rejects an input that would deploy but could not work.
// ---------------------------------------------------------------------------------------------

// Characters a storage account name may hold; Key Vault and the hyphenated names add '-'.
var lowerAlphanumerics = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
// split() with every allowed character as a delimiter leaves only the characters that are not
// allowed; joined, that is '' exactly when the name is made of allowed characters.
var prefixStrayCharacters = join(split(prefix, concat(lowerAlphanumerics, ['-'])), '')

// Every name is <type>-<prefix>-<hash>: the prefix must start with a letter, hold only lowercase
// letters, digits and single hyphens, and not end with one (Service Bus, PostgreSQL, Redis and the
// function app reject a leading, trailing or double hyphen next to the separators).
assert namePrefixMakesValidNames = contains('abcdefghijklmnopqrstuvwxyz', first(prefix)) && empty(prefixStrayCharacters) && !contains(prefix, '--') && !endsWith(prefix, '-')

// Storage accounts: 3-24 lowercase letters and digits, nothing else.
assert hostStorageNameIsValid = length(names.hostStorage) >= 3 && length(names.hostStorage) <= 24 && empty(join(split(names.hostStorage, lowerAlphanumerics), ''))
assert mediaStorageNameIsValid = length(names.mediaStorage) >= 3 && length(names.mediaStorage) <= 24 && empty(join(split(names.mediaStorage, lowerAlphanumerics), ''))

// Key Vault: 3-24 letters, digits and hyphens, starting with a letter, no two hyphens in a row.
assert keyVaultNameIsValid = length(names.keyVault) >= 3 && length(names.keyVault) <= 24 && !contains(names.keyVault, '--') && empty(join(split(names.keyVault, concat(lowerAlphanumerics, ['-'])), ''))

// One queue per function: on a shared queue the import worker, the video processor and the mail
// sender would take each other's messages. Service Bus entity names are case-insensitive.
assert queueNamesDiffer = toLower(importQueueName) != toLower(processingQueueName) && toLower(importQueueName) != toLower(mailQueueName) && toLower(processingQueueName) != toLower(mailQueueName) && !contains([toLower(importQueueName), toLower(processingQueueName), toLower(mailQueueName)], toLower(publishQueueName))

// PostgreSQL has password authentication disabled (modules/postgres.bicep), so without an Entra
// administrator nobody could ever log in, create the app's role or run migrations.
assert postgresHasEntraAdministrator = postgresAppIdentityIsAdmin || !empty(postgresEntraAdmins)

var allTags = union({
  application: prefix
  'managed-by': 'bicep'
}, tags)

// Blob container of the host storage account that receives the Flex deployment package.
var deploymentContainerName = 'app-package'

// Built-in roles of the app identity on the two storage accounts.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
    principalId: identity.outputs.principalId
  }
}

var useStaticWebApp = frontendHosting == 'staticWebApp'

module staticWebApp 'modules/staticwebapp.bicep' = if (useStaticWebApp) {
  name: 'staticWebApp'
  params: {
    name: names.staticWebApp
    location: staticWebAppLocation
    tags: allTags
  }
}

// The origin the frontend is served from without a custom domain: the Static Web App's, or the
// function app's default host name (<name>.azurewebsites.net, known before the app exists, which
// FRONTEND_URL in its own settings needs).
var hostedOrigin = useStaticWebApp ? 'https://${staticWebApp!.outputs.defaultHostname}' : 'https://${names.functionApp}.azurewebsites.net'
// An origin has no trailing slash (CORS compares it exactly; URLs are built by appending paths).
var customOrigin = endsWith(frontendCustomOrigin, '/') ? take(frontendCustomOrigin, length(frontendCustomOrigin) - 1) : frontendCustomOrigin
var frontendUrl = empty(customOrigin) ? hostedOrigin : customOrigin

// Functions host storage. Blob Data Owner: host leases/keys and the deployment package; Queue and
// Table Data Contributor: what the host and its extensions use in AzureWebJobsStorage.
module hostStorage 'modules/storage.bicep' = {
  name: 'hostStorage'
  params: {
    name: names.hostStorage
    location: location
    tags: allTags
    skuName: storageSkuName
    containerNames: [
      deploymentContainerName
    ]
    corsRules: []
    softDeleteRetentionDays: 7
    principalId: identity.outputs.principalId
    roleDefinitionIds: [
      roles.storageBlobDataOwner
      roles.storageQueueDataContributor
      roles.storageTableDataContributor
    ]
  }
}

// Media storage. Blob Data Contributor: read/write/delete videos; Blob Delegator: get a user
// delegation key to sign the write-only upload SAS and short-lived read SAS.
// CORS: the browser PUTs blocks and the block list straight to Blob Storage with that SAS.
module mediaStorage 'modules/storage.bicep' = {
  name: 'mediaStorage'
  params: {
    name: names.mediaStorage
    location: location
    tags: allTags
    skuName: storageSkuName
    containerNames: [
      blobContainerName
    ]
    corsRules: [
      {
        // union() drops the duplicate when no custom domain is set.
        allowedOrigins: union([hostedOrigin, frontendUrl], extraStorageCorsOrigins)
        allowedMethods: [
          'PUT'
          'GET'
          'HEAD'
          'OPTIONS'
        ]
        allowedHeaders: [
          'content-type'
          'content-md5'
          'x-ms-blob-type'
          'x-ms-blob-content-type'
          'x-ms-blob-content-disposition'
          'x-ms-blob-cache-control'
          'x-ms-blob-content-md5'
          'x-ms-version'
          'x-ms-date'
          'x-ms-client-request-id'
          'x-ms-content-crc64'
          'x-ms-meta-*'
        ]
        exposedHeaders: [
          'etag'
          'last-modified'
          'content-length'
          'content-md5'
          'x-ms-request-id'
          'x-ms-version'
          'x-ms-error-code'
          'x-ms-content-crc64'
        ]
        maxAgeInSeconds: 3600
      }
    ]
    softDeleteRetentionDays: blobSoftDeleteRetentionDays
    principalId: identity.outputs.principalId
    roleDefinitionIds: [
      roles.storageBlobDataContributor
      roles.storageBlobDelegator
    ]
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'serviceBus'
  params: {
    name: names.serviceBus
    location: location
    tags: allTags
    queueNames: [
      importQueueName
      processingQueueName
      mailQueueName
      publishQueueName
    ]
    maxDeliveryCount: serviceBusMaxDeliveryCount
    duplicateDetectionWindow: serviceBusDuplicateDetectionWindow
    messageTimeToLive: serviceBusMessageTimeToLive
    principalId: identity.outputs.principalId
    grantDataOwner: serviceBusGrantDataOwner
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    name: names.postgres
    location: location
    tags: allTags
    version: postgresVersion
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    highAvailabilityMode: postgresHighAvailabilityMode
    databaseName: postgresDatabaseName
    appIdentityIsAdmin: postgresAppIdentityIsAdmin
    appIdentityName: identity.outputs.name
    appIdentityPrincipalId: identity.outputs.principalId
    entraAdmins: postgresEntraAdmins
    firewallRules: postgresFirewallRules
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  params: {
    name: names.redis
    location: location
    tags: allTags
    skuName: redisSkuName
    highAvailability: redisHighAvailability
    principalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    enablePurgeProtection: keyVaultPurgeProtection
    principalId: identity.outputs.principalId
    jwtSecret: jwtSecret
    jwtSecretPrevious: jwtSecretPrevious
    dataEncryptionKey: dataEncryptionKey
    dataEncryptionKeyPrevious: dataEncryptionKeyPrevious
    googleClientSecret: googleClientSecret
    youtubeClientSecret: youtubeClientSecret
    smtpPassword: smtpPassword
  }
}

// ---------------------------------------------------------------------------------------------
// Handler settings (API.md, "Settings"). No secret values: secrets are Key Vault references.
// ---------------------------------------------------------------------------------------------

// PostgreSQL with Entra auth: the user is the identity's role name, there is no password in the
// URL; with DATABASE_AUTH=entra the handler sets the password of every new connection to an access
// token for https://ossrdbms-aad.database.windows.net/.default (pgxpool BeforeConnect), obtained
// with the managed identity. verify-full checks the server certificate against the system roots.
var databaseUrl = 'postgres://${identity.outputs.name}@${postgres.outputs.fullyQualifiedDomainName}:5432/${postgres.outputs.databaseName}?sslmode=verify-full&pool_max_conns=${postgresPoolMaxConns}'

// Redis with Entra auth: user name = identity object ID, password = token (see modules/redis.bicep).
var redisUrl = 'rediss://${identity.outputs.principalId}@${redis.outputs.hostName}:${redis.outputs.port}/0'

var coreSettings = {
  LOG_LEVEL: logLevel
  DATABASE_URL: databaseUrl
  DATABASE_AUTH: 'entra'
  // No console on Flex: every instance applies pending migrations in the background at start
  // (serialised by an advisory lock; start-up does not wait for it).
  MIGRATE_ON_START: 'true'
  REDIS_URL: redisUrl
  REDIS_AUTH: 'entra'
  AZURE_STORAGE_ACCOUNT_URL: mediaStorage.outputs.blobEndpoint
  BLOB_CONTAINER: blobContainerName
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identity.outputs.clientId
  IMPORT_QUEUE: importQueueName
  PROCESSING_QUEUE: processingQueueName
  MAIL_QUEUE: mailQueueName
  PUBLISH_QUEUE: publishQueueName
  JWT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.JWT_SECRET})'
  DATA_ENCRYPTION_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.DATA_ENCRYPTION_KEY})'
  FRONTEND_URL: frontendUrl
  COOKIE_SECURE: 'true'
  YTDLP_PATH: ytdlpPath
  FFMPEG_PATH: ffmpegPath
  FFPROBE_PATH: ffprobePath
  IMPORT_MAX_BYTES: string(importMaxBytes)
  UPLOAD_MAX_BYTES: string(uploadMaxBytes)
  IMPORT_ALLOW_PRIVATE_NETWORKS: 'false'
  // The client address for rate limits is this many X-Forwarded-For entries from the right: the one
  // the platform front end appended. Verify on the first deployment behind the Static Web App's
  // linked backend (one more proxy would make it 2).
  TRUSTED_PROXY_HOPS: '1'
}

// The function app serves the static export only when no Static Web App does. The deploy folder
// holds it in www/ (make package copies frontend/out there).
var frontendSettings = useStaticWebApp ? {} : {
  FRONTEND_DIR: '/home/site/wwwroot/www'
}

var corsSettings = empty(allowedOrigins) ? {} : {
  ALLOWED_ORIGINS: join(allowedOrigins, ',')
}

// Optional integrations are added only when configured. A half-configured one (client ID without a
// stored secret, user name without a password) still reaches the handler, whose config check
// then names the missing setting instead of the feature silently staying off.
var googleSettings = empty(googleClientId) ? {} : {
  GOOGLE_CLIENT_ID: googleClientId
  GOOGLE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.GOOGLE_CLIENT_SECRET})'
  // Through the Static Web App, so the OAuth state cookie is first-party on the callback.
  GOOGLE_REDIRECT_URL: '${frontendUrl}/api/auth/oauth/callback'
}

var youtubeSettings = empty(youtubeClientId) ? {} : {
  YOUTUBE_CLIENT_ID: youtubeClientId
  YOUTUBE_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.YOUTUBE_CLIENT_SECRET})'
  // Through the frontend's origin like Google sign-in (register this URL in the Google Cloud console).
  YOUTUBE_REDIRECT_URL: '${frontendUrl}/api/social-accounts/youtube/callback'
}

var rotationSettings = dataEncryptionKeyRotation ? {
  DATA_ENCRYPTION_KEY_PREVIOUS: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.DATA_ENCRYPTION_KEY_PREVIOUS})'
} : {}

var jwtRotationSettings = jwtSecretRotation ? {
  JWT_SECRET_PREVIOUS: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.JWT_SECRET_PREVIOUS})'
} : {}

var smtpSettings = empty(smtpHost) ? {} : {
  SMTP_HOST: smtpHost
  SMTP_PORT: string(smtpPort)
  SMTP_FROM: smtpFrom
}

var smtpAuthSettings = empty(smtpUsername) ? {} : {
  SMTP_USERNAME: smtpUsername
  SMTP_PASSWORD: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.secretUris.SMTP_PASSWORD})'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionApp'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: allTags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: hostStorage.outputs.name
    hostStorageBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    appSettings: union(coreSettings, frontendSettings, corsSettings, googleSettings, youtubeSettings, rotationSettings, jwtRotationSettings, smtpSettings, smtpAuthSettings)
    allowBasicPublishingCredentials: allowBasicPublishingCredentials
  }
}

module staticWebAppBackend 'modules/staticwebapp-backend.bicep' = if (useStaticWebApp) {
  name: 'staticWebAppBackend'
  params: {
    staticWebAppName: staticWebApp!.outputs.name
    backendResourceId: functionApp.outputs.id
    backendRegion: location
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (no secrets)
// ---------------------------------------------------------------------------------------------

@description('Function app name: func azure functionapp publish <this> --custom.')
output functionAppName string = functionApp.outputs.name

@description('Function app default host name (with frontendHosting staticWebApp, HTTP functions answer only through the Static Web App; with functionApp, this host serves the frontend and the API).')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Static Web App name (for swa deploy / az staticwebapp secrets list); empty with frontendHosting functionApp.')
output staticWebAppName string = useStaticWebApp ? staticWebApp!.outputs.name : ''

@description('Static Web App default host name; empty with frontendHosting functionApp.')
output staticWebAppHostName string = useStaticWebApp ? staticWebApp!.outputs.defaultHostname : ''

@description('How the frontend is hosted (the frontendHosting parameter).')
output frontendHosting string = frontendHosting

@description('FRONTEND_URL as configured.')
output frontendUrl string = frontendUrl

@description('AZURE_STORAGE_ACCOUNT_URL: blob endpoint of the media storage account.')
output storageAccountUrl string = mediaStorage.outputs.blobEndpoint

@description('Service Bus fully qualified namespace.')
output serviceBusFullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('PostgreSQL server host name.')
output postgresHostName string = postgres.outputs.fullyQualifiedDomainName

@description('PostgreSQL database name.')
output postgresDatabaseName string = postgres.outputs.databaseName

@description('PostgreSQL role name of the app identity.')
output postgresAppRoleName string = identity.outputs.name

@description('Redis host name.')
output redisHostName string = redis.outputs.hostName

@description('Key Vault name.')
output keyVaultName string = keyVault.outputs.name

@description('Client ID of the app identity.')
output identityClientId string = identity.outputs.clientId

@description('Object (principal) ID of the app identity.')
output identityPrincipalId string = identity.outputs.principalId
