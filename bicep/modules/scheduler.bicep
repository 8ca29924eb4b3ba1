// The Durable Task Scheduler backend (main.bicep durableBackend = 'durableTaskScheduler'): a
// scheduler on the Consumption SKU (billed per action dispatched, no capacity to set), its task
// hub, and the app identity's Durable Task Data Contributor role on that task hub only.
// Microsoft.DurableTask@2026-02-01 is the newest stable API version the Bicep CLI in use has
// types for (azure-rest-api-specs, specification/durabletask, stable/2026-02-01).

@description('Name of the scheduler (3-64 letters, digits or hyphens).')
param name string

@description('Azure region of the scheduler.')
param location string

@description('Tags applied to the scheduler.')
param tags { *: string }

@description('Name of the task hub (TASK_HUB_NAME, read by host.json).')
param taskHubName string

@description('Name of the user-assigned identity the function app runs as.')
param identityName string

// Built-in role "Durable Task Data Contributor": all data operations on schedulers and task hubs
// (Microsoft's built-in roles reference; the role Durable Functions apps need).
var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // Required by the API; an empty list refuses every caller. The app's Flex Consumption
    // instances have no fixed outbound addresses, so every address may connect and the role
    // assignment below decides who may do anything.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: {
      name: 'Consumption'
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

resource dataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, identity.id, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Endpoint of the scheduler (https://<name>.<region>...durabletask.io).')
output endpoint string = scheduler.properties.endpoint

@description('Name of the scheduler.')
output name string = scheduler.name
