// Service Bus namespace (Standard) with the work queues, reachable only with Entra ID (local/SAS
// authentication disabled), and the send/receive (and, for scaling, Data Owner) roles for the app
// identity.
//
// Queue shape, and why:
//   - lockDuration PT5M (the maximum): the Functions host renews the lock while a job runs, up to
//     host.json's maxAutoLockRenewalDuration; a longer lock means fewer renewals and a slower
//     redelivery only when an instance dies mid-job.
//   - maxDeliveryCount: the handler answers 5xx only for transient failures; after this many
//     deliveries the message is dead-lettered (permanent failures are recorded and acknowledged).
//   - deadLetteringOnMessageExpiration: a message that outlives its TTL lands in the DLQ instead of
//     vanishing, so a stuck video can be found and replayed.
//   - requiresDuplicateDetection: the API sets MessageId, so a repeated send within the window
//     (client retry after a timeout) is dropped by the broker. This cannot be changed after the
//     queue exists. A re-send after the window is delivered again; the worker is idempotent anyway.

@description('Name of the Service Bus namespace (6-50 characters, globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region of the namespace.')
param location string

@description('Tags applied to the namespace.')
param tags object

@description('Names of the queues to create (IMPORT_QUEUE, PROCESSING_QUEUE, MAIL_QUEUE and PUBLISH_QUEUE).')
param queueNames array

@description('Deliveries before a message is dead-lettered.')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int

@description('ISO 8601 duration of the duplicate-detection window, e.g. PT10M.')
param duplicateDetectionWindow string

@description('ISO 8601 time to live of a message, e.g. P14D; expired messages are dead-lettered.')
param messageTimeToLive string

@description('Object (principal) ID of the app identity that sends and receives.')
param principalId string

@description('Also grant Azure Service Bus Data Owner, so the Functions scale controller can read queue length with the app identity (see the role comment below).')
param grantDataOwner bool

// Built-in roles: Azure Service Bus Data Sender (the API enqueues imports, the sweeper wakes the
// mail sender), Azure Service Bus Data Receiver (the three queue triggers).
var sendReceiveRoleIds = [
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
]
// Azure Service Bus Data Owner. Send and receive do not need it, but scaling does: with an
// identity-based connection the Functions scale controller reads each trigger queue's message
// count with the app's identity, and Microsoft lists Data Owner next to Data Receiver for Service
// Bus triggers (Service Bus bindings, "Grant permission to the identity") and grants both in its
// Flex Consumption Service Bus sample (Azure-Samples/azure-functions-flex-consumption-samples,
// E2E/SB-VNET). Without it scale-out follows the queue late. It is broader than send/receive: it
// also lets the identity manage the namespace's entities, and this namespace holds only this app's
// queues. main.bicep's serviceBusGrantDataOwner=false leaves it out.
var dataOwnerRoleId = '090c5cfd-751d-490a-894a-3ce6f1109419'
var roleDefinitionIds = grantDataOwner ? concat(sendReceiveRoleIds, [dataOwnerRoleId]) : sendReceiveRoleIds

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: namespace
    name: queueName
    properties: {
      lockDuration: 'PT5M'
      maxDeliveryCount: maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: messageTimeToLive
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
      requiresSession: false
      enablePartitioning: false
      enableBatchedOperations: true
      maxSizeInMegabytes: 1024
    }
  }
]

// Namespace scope: the app sends to and receives from every queue, and the scale controller reads
// their length.
resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in roleDefinitionIds: {
    name: guid(namespace.id, principalId, roleId)
    scope: namespace
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

@description('Name of the namespace.')
output name string = namespace.name

// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/ (the suffix differs in sovereign
// clouds, so the host is read from the resource instead of being written here).
@description('Fully qualified namespace host name, e.g. sb-x.servicebus.windows.net.')
output fullyQualifiedNamespace string = split(split(split(namespace.properties.serviceBusEndpoint, '//')[1], '/')[0], ':')[0]
