// Flex Consumption (FC1) plan and the Linux function app. The app runs as the user-assigned
// identity: storage, the deployment package and telemetry are all reached with Entra ID, so no
// app setting carries a key. Settings Flex Consumption rejects (FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT*, ...) are not set:
// the runtime comes from functionAppConfig.runtime and the package from functionAppConfig.deployment.

@export()
@description('The failover settings the app reads (src/core/config.ts and src/core/knobs.ts), one field per app setting.')
type failoverSettings = {
  @description('FAILOVER_GROUP: default failover group (RowKey of its state row).')
  group: string
  @description('FAILOVER_TABLE: table holding one state row per group.')
  stateTable: string
  @description('FAILOVER_HISTORY_TABLE: table holding the audit history.')
  historyTable: string
  @description('PRIMARY_ENDPOINT: primary health URL.')
  primaryEndpoint: string
  @description('SECONDARY_ENDPOINT: secondary health URL.')
  secondaryEndpoint: string
  @description('PRIMARY_REGION: Azure region of the primary, empty when not declared.')
  primaryRegion: string
  @description('SECONDARY_REGION: Azure region of the secondary, empty when not declared.')
  secondaryRegion: string
  @description('FAILURE_THRESHOLD')
  failureThreshold: int
  @description('RECOVERY_THRESHOLD')
  recoveryThreshold: int
  @description('CHECK_INTERVAL_SECONDS')
  checkIntervalSeconds: int
  @description('COOLDOWN_SECONDS')
  cooldownSeconds: int
  @description('FAILBACK_MODE')
  failbackMode: ('manual' | 'automatic')
  @description('PROBE_TIMEOUT_MS')
  probeTimeoutMs: int
  @description('PROBE_EXPECTED_STATUS')
  probeExpectedStatus: string
  @description('PROBE_BODY_MATCH')
  probeBodyMatch: string
  @description('PROBE_MAX_BODY_BYTES')
  probeMaxBodyBytes: int
  @description('PROBE_FOLLOW_REDIRECTS')
  probeFollowRedirects: bool
  @description('STANDBY_CHECK_EVERY')
  standbyCheckEvery: int
  @description('VANTAGES')
  vantages: string
  @description('QUORUM')
  quorum: int
  @description('DRIFT_CHECK_EVERY')
  driftCheckEvery: int
  @description('DRIFT_ACTION')
  driftAction: ('report' | 'reconcile')
  @description('DECISION_MODE')
  decisionMode: ('automatic' | 'approval' | 'notify_only')
  @description('APPROVAL_TIMEOUT_SECONDS')
  approvalTimeoutSeconds: int
  @description('APPROVAL_TIMEOUT_ACTION')
  approvalTimeoutAction: ('proceed' | 'abandon')
  @description('READINESS_CHECK_MINUTES')
  readinessCheckMinutes: int
  @description('SWITCH_PLAN: the default group\'s switch plan (JSON), empty for none')
  switchPlan: string
  @description('ARM_ENDPOINT')
  armEndpoint: string
  @description('ARM_AUDIENCE')
  armAudience: string
  @description('APP_CONFIGURATION_AUDIENCE')
  appConfigurationAudience: string
  @description('SWITCH_EXTRA_CA_PEM')
  switchExtraCaPem: string
  @description('APP_CONFIGURATION_ALLOWED_HOSTS')
  appConfigurationAllowedHosts: string
  @description('EGRESS_ALLOW_PRIVATE')
  egressAllowPrivate: bool
  @description('MAX_GROUPS')
  maxGroups: int
  @description('MAX_PAUSE_SECONDS')
  maxPauseSeconds: int
  @description('NOTIFY_EXPIRY_SECONDS')
  notifyExpirySeconds: int
  @description('AUDIT_RETENTION_DAYS')
  auditRetentionDays: int
  @description('AUDIT_MAX_ENTRIES')
  auditMaxEntries: int
  @description('SWITCH_CALL_TIMEOUT_SECONDS')
  switchCallTimeoutSeconds: int
  @description('SWITCH_CYCLE_BUDGET_SECONDS')
  switchCycleBudgetSeconds: int
}

@export()
@description('One vantage agent as VANTAGE_AGENTS lists it (src/core/vantage.ts).')
type vantageAgent = {
  @description('The vantage\'s name, as VANTAGES names it (the region).')
  name: string
  @description('The agent\'s probe URL: https://<host>/api/probe.')
  url: string
  @description('The agent\'s Azure region.')
  region: string
}

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app.')
param appName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app.')
param tags { *: string }

@description('Name of the user-assigned identity the app runs as.')
param identityName string

@description('Name of the storage account used by the runtime and for the deployment package.')
param storageAccountName string

@description('Blob container the app package is deployed from.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Node.js version of the Functions runtime.')
@allowed([
  '22'
  '24'
])
param nodeVersion string

@description('Always-ready instances for the Durable Functions group (orchestrators, activities): 1 keeps an instance awake so durable timers fire on time; 0 lets the app scale to zero (timers may then fire late).')
@minValue(0)
@maxValue(1)
param durableAlwaysReadyInstances int

@description('Upper bound of instances Flex Consumption scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Durable Functions task hub name (host.json reads it as %TASK_HUB_NAME%).')
param taskHubName string

@description('Where the Durable extension keeps its task hub: azureStorage or durableTaskScheduler.')
@allowed([
  'azureStorage'
  'durableTaskScheduler'
])
param durableBackend string

@description('Endpoint of the Durable Task Scheduler (durableTaskScheduler), or empty.')
param schedulerEndpoint string

// The Azure Storage provider refuses other names and the host then fails at start, so the
// deployment refuses them first (bicep has no regex: each character is checked).
@export()
@description('Why a name is not a valid Durable task hub name for the Azure Storage provider, or empty when it is: 3-45 characters, letters and digits only, starting with a letter.')
func taskHubNameProblem(name string) string => length(name) < 3 || length(name) > 45 ? 'must be 3-45 characters long' : !contains('abcdefghijklmnopqrstuvwxyz', toLower(substring(name, 0, 1))) ? 'must start with a letter' : length(filter(range(0, length(name)), i => !contains('abcdefghijklmnopqrstuvwxyz0123456789', toLower(substring(name, i, 1))))) > 0 ? 'must hold only letters and digits' : ''

// Task hubs earlier deployments of this template created on Azure Storage with the extension's
// default of 4 partitions (no partitionCount in host.json then). A hub keeps the partition count
// it was created with whatever host.json says, so running on one of them would silently keep 4.
@export()
@description('Task hub names created by earlier deployments with 4 partitions (lower case), refused on Azure Storage.')
var fourPartitionTaskHubs = [
  'failoverhub'
]

// Why this deployment refuses taskHubName, or empty.
var taskHubRefusal = !empty(taskHubNameProblem(taskHubName))
  ? '${taskHubNameProblem(taskHubName)} (the Durable Azure Storage provider refuses it)'
  : durableBackend == 'azureStorage' && contains(fourPartitionTaskHubs, toLower(taskHubName))
      ? 'is the task hub earlier deployments created with 4 partitions, which it keeps whatever host.json says: use a new name (the default names its partition count; docs/notes/deploy-backend.md says what happens to the running loops)'
      : ''

// A region's short name (westeurope) from the short or the display name ('West Europe').
func regionName(region string) string => toLower(replace(region, ' ', ''))

// The Durable extension's storage provider, per backend, as host.json overrides
// (AzureFunctionsJobHost__extensions__durableTask__storageProvider__*). Azure Storage: what
// host.json and the extension's defaults already say. Durable Task Scheduler: the azureManaged
// provider (extension bundle 4.32.0 or later) and its connection setting, under the name the
// provider reads by default (DURABLE_TASK_SCHEDULER_CONNECTION_STRING); host.json's
// connectionName is overridden, as the extension reads it before connectionStringName.
var onScheduler = durableBackend == 'durableTaskScheduler'
var providerConnection = onScheduler ? 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' : 'AzureWebJobsStorage'

@description('The failover settings, written as app settings.')
param failover failoverSettings

@description('VANTAGE_AGENTS: the vantage agents the controller asks (empty: it judges alone).')
param vantageAgents vantageAgent[]

@description('VANTAGE_AGENT_AUDIENCE: the agents\' application ID URI (api://<client id>) the controller asks a token for; empty without agents. VANTAGE_AGENT_KEY, the shared key of local runs, is never set in Azure.')
param vantageAgentAudience string

@description('NOTIFY_WEBHOOK_URL: optional webhook for transitions. Secure because such URLs embed a token.')
@secure()
param notifyWebhookUrl string

@description('NOTIFY_WEBHOOK_SECRET: optional Standard Webhooks secret the notifications are signed with.')
@secure()
param notifyWebhookSecret string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
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

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  // azd deploys the service "api" of azure.yaml to the resource carrying this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
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
      // Only what Flex Consumption documents: it rejects ftpsState (BadRequest 51021) and has no
      // FTP endpoint at all; runtime and scale live in functionAppConfig, not here.
      minTlsVersion: '1.2'
      appSettings: [
        // Functions runtime and Durable task hub storage, identity-based (no AzureWebJobsStorage connection string).
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
        // Telemetry through Entra ID (local auth is disabled on the component).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
        }
        {
          name: 'TASK_HUB_NAME'
          value: empty(taskHubRefusal) ? taskHubName : fail('taskHubName "${taskHubName}" ${taskHubRefusal}')
        }
        // The Durable backend (see providerConnection above).
        {
          name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__type'
          value: onScheduler ? 'azureManaged' : 'AzureStorage'
        }
        {
          name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName'
          value: providerConnection
        }
        // Identity-based: the scheduler accepts no keys.
        {
          name: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
          value: onScheduler ? 'Endpoint=${schedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identity.properties.clientId}' : ''
        }
        // The failover configuration the app reads.
        {
          name: 'FAILOVER_GROUP'
          value: failover.group
        }
        {
          name: 'FAILOVER_TABLE'
          value: failover.stateTable
        }
        {
          name: 'FAILOVER_HISTORY_TABLE'
          value: failover.historyTable
        }
        {
          name: 'PRIMARY_ENDPOINT'
          value: failover.primaryEndpoint
        }
        {
          name: 'SECONDARY_ENDPOINT'
          value: failover.secondaryEndpoint
        }
        // Where the sides and the state storage run, for the topology check of readiness, as the
        // short names REGION_NAME uses (a display name such as 'West Europe' becomes westeurope).
        {
          name: 'PRIMARY_REGION'
          value: regionName(failover.primaryRegion)
        }
        {
          name: 'SECONDARY_REGION'
          value: regionName(failover.secondaryRegion)
        }
        // The storage account's own location, as Resource Manager reports it.
        {
          name: 'STATE_STORAGE_REGION'
          value: regionName(storage.location)
        }
        {
          name: 'NOTIFY_WEBHOOK_URL'
          value: notifyWebhookUrl
        }
        {
          name: 'NOTIFY_WEBHOOK_SECRET'
          value: notifyWebhookSecret
        }
        {
          name: 'SWITCH_PLAN'
          value: failover.switchPlan
        }
        {
          name: 'ARM_ENDPOINT'
          value: failover.armEndpoint
        }
        {
          name: 'ARM_AUDIENCE'
          value: failover.armAudience
        }
        {
          name: 'APP_CONFIGURATION_AUDIENCE'
          value: failover.appConfigurationAudience
        }
        {
          name: 'SWITCH_EXTRA_CA_PEM'
          value: failover.switchExtraCaPem
        }
        {
          name: 'APP_CONFIGURATION_ALLOWED_HOSTS'
          value: failover.appConfigurationAllowedHosts
        }
        // The vantage agents (modules/agent.bicep), as a JSON array, and the token audience for them.
        {
          name: 'VANTAGE_AGENTS'
          value: empty(vantageAgents) ? '' : string(vantageAgents)
        }
        {
          name: 'VANTAGE_AGENT_AUDIENCE'
          value: vantageAgentAudience
        }
        {
          name: 'FAILURE_THRESHOLD'
          value: string(failover.failureThreshold)
        }
        {
          name: 'RECOVERY_THRESHOLD'
          value: string(failover.recoveryThreshold)
        }
        {
          name: 'CHECK_INTERVAL_SECONDS'
          value: string(failover.checkIntervalSeconds)
        }
        {
          name: 'COOLDOWN_SECONDS'
          value: string(failover.cooldownSeconds)
        }
        {
          name: 'FAILBACK_MODE'
          value: failover.failbackMode
        }
        {
          name: 'PROBE_TIMEOUT_MS'
          value: string(failover.probeTimeoutMs)
        }
        {
          name: 'PROBE_EXPECTED_STATUS'
          value: failover.probeExpectedStatus
        }
        {
          name: 'PROBE_BODY_MATCH'
          value: failover.probeBodyMatch
        }
        {
          name: 'PROBE_MAX_BODY_BYTES'
          value: string(failover.probeMaxBodyBytes)
        }
        {
          name: 'PROBE_FOLLOW_REDIRECTS'
          value: failover.probeFollowRedirects ? 'true' : 'false'
        }
        {
          name: 'STANDBY_CHECK_EVERY'
          value: string(failover.standbyCheckEvery)
        }
        {
          name: 'VANTAGES'
          value: failover.vantages
        }
        {
          name: 'QUORUM'
          value: string(failover.quorum)
        }
        {
          name: 'DRIFT_CHECK_EVERY'
          value: string(failover.driftCheckEvery)
        }
        {
          name: 'DRIFT_ACTION'
          value: failover.driftAction
        }
        {
          name: 'DECISION_MODE'
          value: failover.decisionMode
        }
        {
          name: 'APPROVAL_TIMEOUT_SECONDS'
          value: string(failover.approvalTimeoutSeconds)
        }
        {
          name: 'APPROVAL_TIMEOUT_ACTION'
          value: failover.approvalTimeoutAction
        }
        {
          name: 'READINESS_CHECK_MINUTES'
          value: string(failover.readinessCheckMinutes)
        }
        {
          name: 'EGRESS_ALLOW_PRIVATE'
          value: failover.egressAllowPrivate ? 'true' : 'false'
        }
        {
          name: 'MAX_GROUPS'
          value: string(failover.maxGroups)
        }
        {
          name: 'MAX_PAUSE_SECONDS'
          value: string(failover.maxPauseSeconds)
        }
        {
          name: 'NOTIFY_EXPIRY_SECONDS'
          value: string(failover.notifyExpirySeconds)
        }
        {
          name: 'AUDIT_RETENTION_DAYS'
          value: string(failover.auditRetentionDays)
        }
        {
          name: 'AUDIT_MAX_ENTRIES'
          value: string(failover.auditMaxEntries)
        }
        {
          name: 'SWITCH_CALL_TIMEOUT_SECONDS'
          value: string(failover.switchCallTimeoutSeconds)
        }
        {
          name: 'SWITCH_CYCLE_BUDGET_SECONDS'
          value: string(failover.switchCycleBudgetSeconds)
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Microsoft's advice for Durable Functions on Flex: an always-ready instance for the
        // `durable` group, so a scaled-to-zero app does not wake late for its own timers.
        alwaysReady: durableAlwaysReadyInstances > 0
          ? [
              {
                name: 'durable'
                instanceCount: durableAlwaysReadyInstances
              }
            ]
          : []
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

@description('Name of the function app.')
output name string = functionApp.name

@description('Default host name of the function app.')
output defaultHostName string = functionApp.properties.defaultHostName

@description('Name of the Flex Consumption plan.')
output planName string = plan.name
