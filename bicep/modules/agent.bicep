// One vantage agent in one region: a small Flex Consumption function app that probes an endpoint
// when the controller asks (POST /api/probe), so an endpoint's health is judged from several
// regions. Its own identity, storage account (host state and deployment package) and plan; no
// Durable Functions, no always-ready instance. It reads the controller's state table with Storage
// Table Data Reader on that one table (the agent probes only endpoints registered on a group's
// row), and accepts only the controller's token: App Service Authentication with Entra ID, the
// controller identity as the one allowed application (the app itself also checks the app role
// vantage.probe, which docs/deploy.md says how to assign).

@export()
@description('Names of one agent\'s resources (main.bicep derives them from the resource token and the region).')
type agentResourceNames = {
  @description('User-assigned identity the agent runs as.')
  identity: string
  @description('The agent\'s own storage account (3-24 lowercase letters and digits).')
  storage: string
  @description('Flex Consumption plan.')
  plan: string
  @description('Function app.')
  functionApp: string
  @description('Blob container the package is deployed from.')
  deploymentContainer: string
  @description('Name of the nested deployment that configures App Service Authentication.')
  authDeployment: string
}

@description('Azure region of the agent: its identity, storage account, plan and app.')
param location string

@description('Names of the agent\'s resources.')
param names agentResourceNames

@description('Tags applied to every resource of the agent.')
param tags { *: string }

@description('Node.js version of the Functions runtime.')
@allowed([
  '22'
  '24'
])
param nodeVersion string

@description('Upper bound of instances Flex Consumption scales the agent out to. 40 is the lowest value every region accepts (lower values are a regional preview); an agent answers one probe per controller check, so it stays at one instance in practice.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB: the smallest, a probe needs little.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

@description('Name of the controller\'s storage account, which holds the state table.')
param controllerStorageAccountName string

@description('FAILOVER_TABLE: the controller\'s state table, the only data the agent may read.')
param stateTableName string

@description('Client ID of the controller\'s managed identity: the one application whose tokens the agent accepts.')
param controllerClientId string

@description('Name of the Application Insights component the agent sends telemetry to (the controller\'s).')
param applicationInsightsName string

@description('Application (client) ID of the Entra ID app registration that represents the agents and defines the app role vantage.probe.')
param authClientId string

@description('Name of the main.bicep parameter authClientId comes from, named when it is refused.')
param authClientIdParameter string

@description('EGRESS_ALLOW_PRIVATE: let probes reach loopback and private networks (as the controller).')
param egressAllowPrivate bool

// Built-in role definition IDs (the same in every tenant).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var storageTableDataReader = '76199698-9eea-4c19-bc75-cec21354c6b6'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource controllerStorage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: controllerStorageAccountName
}

resource controllerTableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' existing = {
  parent: controllerStorage
  name: 'default'
}

resource stateTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' existing = {
  parent: controllerTableService
  name: stateTableName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: tags
}

// The agent's own storage, keyless like the controller's: host state and the deployment package.
resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: names.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: names.deploymentContainer
  properties: {
    publicAccess: 'None'
  }
}

// The host's needs on its own account, an HTTP-only app: blobs (coordination, keys, the package)
// and tables (the host's diagnostic events). No queue role: nothing here triggers on a queue.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Vantage agent identity: its host\'s blobs and the deployment package.'
  }
}

resource hostTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Vantage agent identity: its host\'s diagnostic events.'
  }
}

// Read-only, on the controller's state table alone (not its history, not the task hub).
resource stateTableDataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(stateTable.id, identity.id, storageTableDataReader)
  scope: stateTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Vantage agent identity: read the controller\'s state rows (the endpoints it may probe).'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identity.id, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Vantage agent identity: telemetry to Application Insights.'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: names.plan
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: names.functionApp
  location: location
  // Not azd's service "api" (that is the controller): scripts/deploy finds agents by the outputs.
  tags: union(tags, { 'vantage-agent': location })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      // As the controller: Flex Consumption accepts only these in siteConfig.
      minTlsVersion: '1.2'
      appSettings: [
        // Its own host storage, identity-based.
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storage.properties.primaryEndpoints.blob
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: storage.properties.primaryEndpoints.queue
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: storage.properties.primaryEndpoints.table
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
        }
        // The controller's state table, read with the agent's identity.
        {
          name: 'AGENT_STATE_STORAGE__tableServiceUri'
          value: controllerStorage.properties.primaryEndpoints.table
        }
        {
          name: 'AGENT_STATE_STORAGE__clientId'
          value: identity.properties.clientId
        }
        {
          name: 'FAILOVER_TABLE'
          value: stateTableName
        }
        {
          name: 'EGRESS_ALLOW_PRIVATE'
          value: egressAllowPrivate ? 'true' : 'false'
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
  // The host starts only once its identity may reach its storage, the state table and telemetry.
  dependsOn: [
    blobDataOwner
    hostTableDataContributor
    stateTableDataReader
    metricsPublisher
  ]
}

// Only the controller's token: Entra ID, 401 without a token, the controller identity as the one
// allowed application.
module auth 'auth.bicep' = {
  name: names.authDeployment
  params: {
    appName: site.name
    clientId: authClientId
    clientIdParameter: authClientIdParameter
    tenantId: tenant().tenantId
    allowedApplications: [
      controllerClientId
    ]
  }
}

@description('Name of the agent\'s function app.')
output name string = site.name

@description('Region of the agent.')
output region string = location

@description('Default host name of the agent\'s function app.')
output defaultHostName string = site.properties.defaultHostName

@description('The URL the controller calls (VANTAGE_AGENTS).')
output probeUrl string = 'https://${site.properties.defaultHostName}/api/probe'

@description('Principal (object) ID of the agent\'s identity.')
output principalId string = identity.properties.principalId
