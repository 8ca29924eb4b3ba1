// Azure failover orchestrator: one resource-group deployment, one pass, no keys.
//
//   az deployment group create -g <rg> -p bicep/main.bicepparam
//
// Creates a user-assigned identity, a keyless storage account (state table, history table,
// deployment container), Log Analytics + Application Insights (local auth off), a Flex
// Consumption function app running as the identity, optionally a Durable Task Scheduler as the
// Durable backend (durableBackend), and the identity's role assignments:
// data-plane roles on storage and telemetry, and, for each switch target given (a Traffic
// Manager profile, a Front Door profile, a DNS zone or record set, an App Configuration store,
// in any resource group or subscription), the one role its switch step needs on that resource.
// Optionally App Service Authentication with Entra ID (authClientId, authTenantId), and vantage
// agents (agentRegions): one small function app per region that probes for the controller, so an
// endpoint's health is judged by a quorum of regions (modules/agent.bicep).
// scripts/deploy wraps this and publishes the app package.

targetScope = 'resourceGroup'

import { failoverSettings } from 'modules/functionapp.bicep'
import { agentResourceNames } from 'modules/agent.bicep'

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

@description('Short name of this environment; with the subscription, resource group and region it seeds the resource token that makes every resource name unique.')
@minLength(1)
@maxLength(32)
param environmentName string = 'failover'

@description('Azure region of every resource but the vantage agents (must offer Flex Consumption). Defaults to the resource group\'s region. With agents, put the controller and its storage in a third region, neither the primary\'s nor the secondary\'s, so one region\'s outage cannot take the controller along with the endpoint it judges.')
param location string = resourceGroup().location

@description('Extra tags merged into the tags every resource carries.')
param tags { *: string } = {}

@description('Node.js version of the Functions runtime: 22 (supported until 2027-04-30; the version the app is built and tested on), or 24 where the region\'s Flex Consumption catalog lists it (az functionapp list-flexconsumption-runtimes --location <region> --runtime node; scripts/deploy --node-version 24 checks it first).')
@allowed([
  '22'
  '24'
])
param nodeVersion string = '22'

@description('Where the Durable extension keeps its task hub: azureStorage (queues, tables and blobs in the storage account) or durableTaskScheduler (a Durable Task Scheduler on the Consumption SKU, billed per action). See docs/notes/deploy-backend.md and docs/cost.md.')
@allowed([
  'azureStorage'
  'durableTaskScheduler'
])
param durableBackend string = 'azureStorage'

@description('Always-ready instances for the Durable Functions group (1: durable timers fire on time on Flex Consumption, billed as baseline memory around the clock; 0: scale to zero, timers may fire late). See docs/cost.md.')
@minValue(0)
@maxValue(1)
param durableAlwaysReadyInstances int = 1

@description('Upper bound of instances Flex Consumption scales the app out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Durable Functions task hub name (TASK_HUB_NAME, read by host.json): 3-45 letters and digits, starting with a letter. An Azure Storage task hub keeps the partition count it was created with, so the default names host.json\'s partitionCount (P1); FailoverHub, which earlier deployments created with 4 partitions, is refused on Azure Storage (docs/notes/deploy-backend.md).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'FailoverHubP1'

@description('Optional object ID of the operator (for example `az ad signed-in-user show --query id -o tsv`) who gets Storage Table Data Contributor to edit the state row with `--auth-mode login`. Empty: none.')
param operatorPrincipalId string = ''

@description('Principal type of operatorPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

// ---------------------------------------------------------------------------------------------
// Failover configuration: one parameter per app setting the app reads (src/core/config.ts,
// src/core/knobs.ts). Defaults and bounds match the app's own schema.
// ---------------------------------------------------------------------------------------------

@description('PRIMARY_ENDPOINT: https health URL of the primary, written when the default group\'s row is first created.')
@minLength(9)
param primaryEndpoint string

@description('SECONDARY_ENDPOINT: https health URL of the secondary, written when the default group\'s row is first created.')
@minLength(9)
param secondaryEndpoint string

@description('PRIMARY_REGION: optional Azure region of the primary (short name such as westeurope), written on the default group\'s row when it is first created. Declared, it turns on the topology check of GET /api/readiness: a warning when the controller or its state storage (location) is in the primary\'s region, when the secondary is in it too, or when one region\'s vantages could blind the quorum (docs/policy.md, "Vantages and quorum"). Empty: not declared.')
param primaryRegion string = ''

@description('SECONDARY_REGION: optional Azure region of the secondary (short name such as northeurope), written on the default group\'s row when it is first created; readiness warns when it is the primary\'s. Empty: not declared.')
param secondaryRegion string = ''

@description('NOTIFY_WEBHOOK_URL: optional Teams/Slack-compatible webhook that receives every transition. Empty: no notifications.')
@secure()
param notifyWebhookUrl string = ''

@description('NOTIFY_WEBHOOK_SECRET: optional Standard Webhooks secret (whsec_<base64>, or 16+ characters); notifications then carry webhook-signature headers. Empty: unsigned.')
@secure()
param notifyWebhookSecret string = ''

@description('SWITCH_PLAN: the default group\'s switch plan as JSON ({"steps":[...]}, see README "Moving traffic"). Empty: the failover changes the row only.')
param switchPlan string = ''

@description('ARM_ENDPOINT: Azure Resource Manager endpoint the switch steps call. Empty: the public cloud\'s; set it (with ARM_AUDIENCE) for a sovereign cloud.')
param armEndpoint string = ''

@description('ARM_AUDIENCE: token scope for those ARM calls. Empty: the public cloud\'s.')
param armAudience string = ''

@description('APP_CONFIGURATION_AUDIENCE: token audience for App Configuration steps. Empty: the public cloud\'s.')
param appConfigurationAudience string = ''

@description('SWITCH_EXTRA_CA_PEM: PEM of CA certificates the switch steps trust besides the system roots (a private CA or TLS-inspecting proxy). Empty: system roots only.')
param switchExtraCaPem string = ''

@description('APP_CONFIGURATION_ALLOWED_HOSTS: hosts (host or host:port, comma-separated) an app_configuration step may name besides the App Configuration stores of the ARM endpoint\'s cloud. Empty: those stores only.')
param appConfigurationAllowedHosts string = ''

@description('FAILOVER_GROUP: default failover group, the RowKey of its state row (1-63 letters, digits, - or _).')
@minLength(1)
@maxLength(63)
param failoverGroup string = 'state'

@description('FAILOVER_TABLE: table holding one state row per group (3-63 letters or digits, starting with a letter).')
@minLength(3)
@maxLength(63)
param failoverTable string = 'failoverstate'

@description('FAILOVER_HISTORY_TABLE: table holding the audit history (3-63 letters or digits, starting with a letter).')
@minLength(3)
@maxLength(63)
param failoverHistoryTable string = 'failoverhistory'

@description('FAILURE_THRESHOLD: consecutive unhealthy checks of the active endpoint before a failover.')
@minValue(1)
@maxValue(10)
param failureThreshold int = 3

@description('RECOVERY_THRESHOLD: consecutive healthy checks of the primary before an automatic failback.')
@minValue(1)
@maxValue(10)
param recoveryThreshold int = 3

@description('CHECK_INTERVAL_SECONDS: seconds between two checks (the durable timer of each cycle).')
@minValue(1)
@maxValue(3600)
param checkIntervalSeconds int = 30

@description('COOLDOWN_SECONDS: after a switch, further switches are refused for this long unless forced.')
@minValue(0)
@maxValue(86400)
param cooldownSeconds int = 300

@description('FAILBACK_MODE: manual keeps the secondary active once switched (the original); automatic returns to the primary after RECOVERY_THRESHOLD healthy checks.')
@allowed([
  'manual'
  'automatic'
])
param failbackMode string = 'manual'

@description('PROBE_TIMEOUT_MS: timeout of one health probe (connect, headers and body), in milliseconds.')
@minValue(100)
@maxValue(60000)
param probeTimeoutMs int = 5000

@description('PROBE_EXPECTED_STATUS: status codes that count as healthy, e.g. "200-299,301".')
@minLength(3)
param probeExpectedStatus string = '200-299'

@description('PROBE_BODY_MATCH: text the response body must contain (empty: any body).')
@maxLength(256)
param probeBodyMatch string = ''

@description('PROBE_MAX_BODY_BYTES: bytes of the response body read at most.')
@minValue(0)
@maxValue(10485760)
param probeMaxBodyBytes int = 65536

@description('PROBE_FOLLOW_REDIRECTS: follow 3xx redirects instead of judging the 3xx status itself.')
param probeFollowRedirects bool = false

@description('STANDBY_CHECK_EVERY: probe the standby every Nth interval in the same cycle and row write (0: only when a switch verifies it); while the secondary is active the primary is probed every cycle.')
@minValue(0)
@maxValue(1000)
param standbyCheckEvery int = 1

@description('VANTAGES: the vantages that judge the group\'s endpoints: all (the controller\'s own probe and every agent of agentRegions) or a comma-separated list of names (controller is the controller\'s own probe, an agent is named by its region, e.g. controller,westeurope,eastus).')
@minLength(1)
param vantages string = 'all'

@description('QUORUM: how many vantages must see an endpoint unhealthy for a check to count as failed (0: a majority of the group\'s vantages).')
@minValue(0)
@maxValue(16)
param quorum int = 0

@description('DRIFT_CHECK_EVERY: with a switch plan, compare each step\'s actual state with the row every Nth cycle once a switch is verified (0: never).')
@minValue(0)
@maxValue(1000)
param driftCheckEvery int = 1

@description('DRIFT_ACTION: report drift, or reconcile it by applying the row\'s target again.')
@allowed([
  'report'
  'reconcile'
])
param driftAction string = 'report'

@description('DECISION_MODE: automatic (the loop switches), approval (it proposes and waits for approve or reject, or approvalTimeoutSeconds) or notify_only (it proposes, never switches).')
@allowed([
  'automatic'
  'approval'
  'notify_only'
])
param decisionMode string = 'automatic'

@description('APPROVAL_TIMEOUT_SECONDS: with decisionMode approval, how long a proposal waits for an answer.')
@minValue(1)
@maxValue(86400)
param approvalTimeoutSeconds int = 900

@description('APPROVAL_TIMEOUT_ACTION: with decisionMode approval, what happens when nobody answers in time: proceed (switch) or abandon.')
@allowed([
  'proceed'
  'abandon'
])
param approvalTimeoutAction string = 'abandon'

@description('READINESS_CHECK_MINUTES: with a switch plan, minutes between two readiness checks by the loop (0: only at init and on demand).')
@minValue(0)
@maxValue(1440)
param readinessCheckMinutes int = 15

@description('EGRESS_ALLOW_PRIVATE: let probes and webhooks reach loopback and private networks (link-local, metadata and the app itself are always refused).')
param egressAllowPrivate bool = false

@description('MAX_GROUPS: most failover groups POST /api/init creates.')
@minValue(1)
@maxValue(1000)
param maxGroups int = 100

@description('MAX_PAUSE_SECONDS: longest pause a caller may ask for.')
@minValue(60)
@maxValue(31536000)
param maxPauseSeconds int = 604800

@description('NOTIFY_EXPIRY_SECONDS: how long the loop retries a notification before recording it as expired.')
@minValue(60)
@maxValue(604800)
param notifyExpirySeconds int = 86400

@description('AUDIT_RETENTION_DAYS: audit entries older than this are deleted by the watchdog.')
@minValue(1)
@maxValue(3650)
param auditRetentionDays int = 90

@description('AUDIT_MAX_ENTRIES: audit entries kept per group at most; the watchdog deletes the oldest beyond it.')
@minValue(100)
@maxValue(1000000)
param auditMaxEntries int = 10000

@description('SWITCH_CALL_TIMEOUT_SECONDS: deadline of one call of a switch step to ARM or App Configuration.')
@minValue(1)
@maxValue(120)
param switchCallTimeoutSeconds int = 10

@description('SWITCH_CYCLE_BUDGET_SECONDS: most time one switch cycle may take before the loop goes on to its next check.')
@minValue(5)
@maxValue(600)
param switchCycleBudgetSeconds int = 30

// ---------------------------------------------------------------------------------------------
// Switch targets (modules/switchRoles.bicep): the resources the switch plan drives. Each one set
// gives the app's identity the one role its step kind needs, on that resource only. Full resource
// IDs: a target may be in any resource group of any subscription. Empty: no role assigned.
// ---------------------------------------------------------------------------------------------

@description('Optional resource ID of the Traffic Manager profile a traffic_manager step switches: the identity gets Traffic Manager Contributor on it. Empty: none.')
param trafficManagerProfileId string = ''

@description('Optional resource ID of the Front Door Standard/Premium profile (Microsoft.Cdn/profiles) a front_door step switches: the identity gets CDN Profile Contributor on it. Empty: none.')
param frontDoorProfileId string = ''

@description('Optional resource ID of the Azure DNS zone a dns step writes, or of its one A or CNAME record set (.../dnszones/<zone>/CNAME/<name>, the narrower scope): the identity gets DNS Zone Contributor on it. Empty: none.')
param dnsZoneOrRecordSetId string = ''

@description('Optional resource ID of the App Configuration store an app_configuration step writes: the identity gets App Configuration Data Owner on it. Empty: none.')
param appConfigurationStoreId string = ''

@description('Optional resource ID of the Azure SQL logical server that is primary in a sql_failover_group step\'s failover group while the primary is active: the identity gets SQL Server Contributor on it. Empty: none.')
param sqlPrimaryServerId string = ''

@description('Optional resource ID of its partner server in the failover group: the identity gets SQL Server Contributor on it. Empty: none.')
param sqlSecondaryServerId string = ''

@description('Optional resource ID of the Azure Cosmos DB account a cosmos_db step switches: the identity gets DocumentDB Account Contributor on it. Empty: none.')
param cosmosAccountId string = ''

@description('Optional resource ID of the storage account a storage_account step fails over: the identity gets Storage Account Contributor on it. Empty: none.')
param storageAccountId string = ''

// ---------------------------------------------------------------------------------------------
// Entra ID (modules/auth.bicep): optional App Service Authentication, off unless both are set
// ---------------------------------------------------------------------------------------------

@description('Optional application (client) ID of an existing Entra ID app registration that defines the reader and operator app roles. With authTenantId set too, App Service Authentication requires its bearer tokens (401 without one) and the app checks the roles. Empty: off (function keys only).')
param authClientId string = ''

@description('Directory (tenant) ID of the authClientId app registration. Empty: off.')
param authTenantId string = ''

// ---------------------------------------------------------------------------------------------
// Vantage agents (modules/agent.bicep): health judged from several regions, by quorum
// ---------------------------------------------------------------------------------------------

@description('Regions to deploy one vantage agent in each (short names such as westeurope; at most 16): a small Flex Consumption app that probes the group\'s endpoints when the controller asks, so a check fails only when a quorum of vantages (VANTAGES, QUORUM) sees the endpoint down. Recommended: 3 or more regions, not all in one geography, with the controller and its storage (location) in a third region, neither the primary\'s nor the secondary\'s. Empty: no agent, the controller judges alone.')
@maxLength(16)
param agentRegions string[] = []

@description('Application (client) ID of the Entra ID app registration that represents the vantage agents and defines their app role vantage.probe. Required when agentRegions is set: the agents accept only the controller identity\'s token for it, with that role (docs/deploy.md, "Vantage agents"). Empty: no agents.')
param agentAuthClientId string = ''

// ---------------------------------------------------------------------------------------------
// Alerts (modules/alerts.bicep): where they go, and the thresholds of the 5xx and storage alerts
// ---------------------------------------------------------------------------------------------

@description('Optional email address that receives every alert (through an action group). Empty, with alertWebhookUrl empty too: no action group; the alerts still show in the portal.')
param alertEmail string = ''

@description('Optional webhook URL that receives every alert in the common alert schema. A secure parameter: it stays out of the deployment history.')
@secure()
param alertWebhookUrl string = ''

@description('Percent of HTTP requests answering 5xx over 15 minutes above which the 5xx alert fires.')
@minValue(1)
@maxValue(100)
param http5xxPercentThreshold int = 5

@description('Failed storage transactions in 5 minutes above which the storage alert fires.')
@minValue(1)
param storageErrorThreshold int = 10

// ---------------------------------------------------------------------------------------------
// Names and tags
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var allTags = union(tags, {
  'azd-env-name': environmentName
  application: 'failover-orchestrator'
})
var names = {
  identity: 'id-${resourceToken}'
  storage: 'st${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  scheduler: 'dts-${resourceToken}'
  deploymentContainer: 'app-package-${resourceToken}'
  actionGroup: 'ag-${resourceToken}'
  alertPrefix: 'alert-${resourceToken}'
  workbook: guid(resourceToken, 'workbook')
}

// One vantage agent per region, its names from the resource token and the region.
var agentNames agentResourceNames[] = map(agentRegions, region => {
  identity: 'id-agent-${resourceToken}-${region}'
  storage: 'st${uniqueString(resourceToken, 'agent', region)}'
  plan: 'plan-agent-${resourceToken}-${region}'
  functionApp: 'func-agent-${resourceToken}-${region}'
  deploymentContainer: 'app-package-${resourceToken}'
  authDeployment: 'agent-auth-${region}'
})

@description('Why agentRegions is refused, or empty: each a region\'s short name (lowercase letters and digits, such as westeurope), each once.')
func agentRegionsProblem(regions string[]) string =>
  length(filter(regions, r => empty(r) || length(filter(range(0, length(r)), i => !contains('abcdefghijklmnopqrstuvwxyz0123456789', substring(r, i, 1)))) > 0)) > 0
    ? 'agentRegions must hold region short names (lowercase letters and digits, such as westeurope), got ${string(regions)}'
    : length(union(regions, [])) != length(regions) ? 'agentRegions names a region more than once: ${string(regions)}' : ''

var agentRegionsRefusal = agentRegionsProblem(agentRegions)
var agentAuthRefusal = 'agentAuthClientId is required when agentRegions is set: the application (client) ID of the app registration that represents the agents and defines their app role vantage.probe (docs/deploy.md, "Vantage agents")'

var failover failoverSettings = {
  group: failoverGroup
  stateTable: failoverTable
  historyTable: failoverHistoryTable
  primaryEndpoint: primaryEndpoint
  secondaryEndpoint: secondaryEndpoint
  primaryRegion: primaryRegion
  secondaryRegion: secondaryRegion
  failureThreshold: failureThreshold
  recoveryThreshold: recoveryThreshold
  checkIntervalSeconds: checkIntervalSeconds
  cooldownSeconds: cooldownSeconds
  failbackMode: failbackMode
  probeTimeoutMs: probeTimeoutMs
  probeExpectedStatus: probeExpectedStatus
  probeBodyMatch: probeBodyMatch
  probeMaxBodyBytes: probeMaxBodyBytes
  probeFollowRedirects: probeFollowRedirects
  standbyCheckEvery: standbyCheckEvery
  vantages: vantages
  quorum: quorum
  driftCheckEvery: driftCheckEvery
  driftAction: driftAction
  decisionMode: decisionMode
  approvalTimeoutSeconds: approvalTimeoutSeconds
  approvalTimeoutAction: approvalTimeoutAction
  readinessCheckMinutes: readinessCheckMinutes
  switchPlan: switchPlan
  armEndpoint: armEndpoint
  armAudience: armAudience
  appConfigurationAudience: appConfigurationAudience
  switchExtraCaPem: switchExtraCaPem
  appConfigurationAllowedHosts: appConfigurationAllowedHosts
  egressAllowPrivate: egressAllowPrivate
  maxGroups: maxGroups
  maxPauseSeconds: maxPauseSeconds
  notifyExpirySeconds: notifyExpirySeconds
  auditRetentionDays: auditRetentionDays
  auditMaxEntries: auditMaxEntries
  switchCallTimeoutSeconds: switchCallTimeoutSeconds
  switchCycleBudgetSeconds: switchCycleBudgetSeconds
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

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    deploymentContainerName: names.deploymentContainer
    stateTableName: failoverTable
    historyTableName: failoverHistoryTable
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: allTags
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    alertNamePrefix: names.alertPrefix
    actionGroupName: names.actionGroup
    location: location
    tags: allTags
    applicationInsightsName: names.applicationInsights
    storageAccountName: names.storage
    alertEmail: alertEmail
    alertWebhookUrl: alertWebhookUrl
    http5xxPercentThreshold: http5xxPercentThreshold
    storageErrorThreshold: storageErrorThreshold
  }
  dependsOn: [
    storage
    monitoring
  ]
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  params: {
    name: names.workbook
    location: location
    tags: allTags
    applicationInsightsName: names.applicationInsights
  }
  dependsOn: [
    monitoring
  ]
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    identityName: names.identity
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
  // Names are passed as deploy-time constants (exact What-If), so the order is explicit.
  dependsOn: [
    identity
    storage
    monitoring
  ]
}

module switchRoles 'modules/switchRoles.bicep' = {
  name: 'switchRoles'
  params: {
    identityName: names.identity
    trafficManagerProfileId: trafficManagerProfileId
    frontDoorProfileId: frontDoorProfileId
    dnsZoneOrRecordSetId: dnsZoneOrRecordSetId
    appConfigurationStoreId: appConfigurationStoreId
    sqlPrimaryServerId: sqlPrimaryServerId
    sqlSecondaryServerId: sqlSecondaryServerId
    cosmosAccountId: cosmosAccountId
    storageAccountId: storageAccountId
  }
  // The identity's name is a deploy-time constant, so the order is explicit.
  dependsOn: [
    identity
  ]
}

// The Durable Task Scheduler backend: the scheduler, its task hub and the identity's role on it.
module scheduler 'modules/scheduler.bicep' = if (durableBackend == 'durableTaskScheduler') {
  name: 'scheduler'
  params: {
    name: names.scheduler
    location: location
    tags: allTags
    taskHubName: taskHubName
    identityName: names.identity
  }
  // The identity's name is a deploy-time constant, so the order is explicit.
  dependsOn: [
    identity
  ]
}

// One vantage agent per region of agentRegions. Each reads the state table and accepts the
// identity's token only, so both exist first; the controller is deployed after, with their URLs.
module agents 'modules/agent.bicep' = [
  for (region, i) in agentRegions: {
    name: 'agent-${region}'
    params: {
      location: empty(agentRegionsRefusal) ? region : fail(agentRegionsRefusal)
      names: agentNames[i]
      tags: allTags
      nodeVersion: nodeVersion
      controllerStorageAccountName: names.storage
      stateTableName: failoverTable
      controllerClientId: identity.outputs.clientId
      applicationInsightsName: names.applicationInsights
      authClientId: empty(agentAuthClientId) ? fail(agentAuthRefusal) : agentAuthClientId
      authClientIdParameter: 'agentAuthClientId'
      egressAllowPrivate: egressAllowPrivate
    }
    // The storage account and Application Insights are named by deploy-time constants.
    dependsOn: [
      storage
      monitoring
    ]
  }
]

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: allTags
    identityName: names.identity
    storageAccountName: names.storage
    deploymentContainerName: names.deploymentContainer
    applicationInsightsName: names.applicationInsights
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    taskHubName: taskHubName
    durableBackend: durableBackend
    // The app starts only once the scheduler, its task hub and the identity's role on it exist.
    schedulerEndpoint: durableBackend == 'durableTaskScheduler' ? scheduler!.outputs.endpoint : ''
    failover: failover
    vantageAgents: [
      for (region, i) in agentRegions: {
        name: region
        url: agents[i].outputs.probeUrl
        region: region
      }
    ]
    vantageAgentAudience: empty(agentRegions) ? '' : 'api://${agentAuthClientId}'
    notifyWebhookUrl: notifyWebhookUrl
    notifyWebhookSecret: notifyWebhookSecret
  }
  // The app starts (and its watchdog starts the orchestration) only once its identity may
  // reach storage and Application Insights (roles, which waits for the identity); the
  // deployment container must exist too.
  dependsOn: [
    storage
    monitoring
    roles
  ]
}

// Either parameter set turns authentication on; the module refuses one without the other.
module auth 'modules/auth.bicep' = if (!empty(authClientId) || !empty(authTenantId)) {
  name: 'auth'
  params: {
    appName: names.functionApp
    clientId: authClientId
    tenantId: authTenantId
  }
  dependsOn: [
    functionApp
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs (names and ids only; nothing secret)
// ---------------------------------------------------------------------------------------------

@description('Resource group of the deployment.')
output resourceGroupName string = resourceGroup().name

@description('Name of the function app (az functionapp ... -n).')
output functionAppName string = functionApp.outputs.name

@description('Default host name of the function app.')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Status endpoint of the default group (append &code=<function key>).')
output statusUrl string = 'https://${functionApp.outputs.defaultHostName}/api/status?group=${failoverGroup}'

@description('Name of the storage account (az storage entity ... --account-name).')
output storageAccountName string = storage.outputs.name

@description('Name of the failover state table.')
output stateTableName string = storage.outputs.stateTableName

@description('Name of the Application Insights component.')
output applicationInsightsName string = monitoring.outputs.applicationInsightsName

@description('Name of the Log Analytics workspace.')
output logAnalyticsName string = monitoring.outputs.logAnalyticsName

@description('Name of the user-assigned identity the app runs as.')
output identityName string = identity.outputs.name

@description('Resource ID of the user-assigned identity.')
output identityResourceId string = identity.outputs.id

@description('Client ID of the user-assigned identity.')
output identityClientId string = identity.outputs.clientId

@description('Principal (object) ID of the user-assigned identity.')
output identityPrincipalId string = identity.outputs.principalId

@description('Durable Functions task hub name.')
output taskHubName string = taskHubName

@description('The Durable backend: azureStorage or durableTaskScheduler.')
output durableBackend string = durableBackend

@description('Endpoint of the Durable Task Scheduler, or empty on Azure Storage.')
output schedulerEndpoint string = durableBackend == 'durableTaskScheduler' ? scheduler!.outputs.endpoint : ''

@description('Probe URLs of the vantage agents (VANTAGE_AGENTS), in agentRegions order; empty without agents.')
output agentUrls string[] = [for i in range(0, length(agentRegions)): agents[i].outputs.probeUrl]

@description('Names of the vantage agents\' function apps, in agentRegions order (scripts/deploy publishes agent.zip to each).')
output agentAppNames string[] = [for i in range(0, length(agentRegions)): agents[i].outputs.name]

@description('Principal (object) IDs of the vantage agents\' identities, in agentRegions order.')
output agentPrincipalIds string[] = [for i in range(0, length(agentRegions)): agents[i].outputs.principalId]
