// Parameters for `az deployment group create -g <rg> -p bicep/main.bicepparam` (scripts/deploy
// sets the environment variables read here). Every other parameter keeps the default declared in
// main.bicep; uncomment a line below to change one for this deployment.
using 'main.bicep'

// Seeds the resource token: a different name gives a separate set of resources in the same group.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'failover')

// The Durable backend (docs/notes/deploy-backend.md): azureStorage (the default) or
// durableTaskScheduler (a Durable Task Scheduler, Consumption SKU, billed per action: docs/cost.md).
param durableBackend = readEnvironmentVariable('DURABLE_BACKEND', 'azureStorage')

// Node.js 22, or 24 where the region's Flex Consumption catalog lists it (scripts/deploy
// --node-version 24 checks the catalog first; with azd, check it yourself:
// az functionapp list-flexconsumption-runtimes --location <region> --runtime node).
param nodeVersion = readEnvironmentVariable('FUNCTIONS_NODE_VERSION', '22')

// The pair to watch (required: https health URLs of the primary and the secondary).
param primaryEndpoint = readEnvironmentVariable('PRIMARY_ENDPOINT')
param secondaryEndpoint = readEnvironmentVariable('SECONDARY_ENDPOINT')

// Optional: the regions the primary and the secondary run in (short names such as westeurope),
// written on the default group's row; readiness then reports a topology one region's outage could
// blind (docs/deploy.md, "Vantage agents"). Empty: not declared.
param primaryRegion = readEnvironmentVariable('PRIMARY_REGION', '')
param secondaryRegion = readEnvironmentVariable('SECONDARY_REGION', '')

// Optional webhook for every transition (a secure parameter: it stays out of deployment history).
param notifyWebhookUrl = readEnvironmentVariable('NOTIFY_WEBHOOK_URL', '')
param notifyWebhookSecret = readEnvironmentVariable('NOTIFY_WEBHOOK_SECRET', '')

// Optional alert receivers (an action group is created only when one is set). The webhook is a
// secure parameter.
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param alertWebhookUrl = readEnvironmentVariable('ALERT_WEBHOOK_URL', '')

// Who may edit the state row with `az storage entity ... --auth-mode login` (scripts/deploy fills
// it with the signed-in user's object ID unless told not to). Empty: nobody besides the app.
param operatorPrincipalId = readEnvironmentVariable('OPERATOR_PRINCIPAL_ID', '')
param operatorPrincipalType = readEnvironmentVariable('OPERATOR_PRINCIPAL_TYPE', 'User')

// Moving traffic (README, "Moving traffic"): the default group's switch plan (JSON), and the
// resources it drives, by resource ID (any resource group or subscription). Each ID set gives the
// app's identity the one role its step needs on that resource. Empty: none.
param switchPlan = readEnvironmentVariable('SWITCH_PLAN', '')
param trafficManagerProfileId = readEnvironmentVariable('TRAFFIC_MANAGER_PROFILE_ID', '')
param frontDoorProfileId = readEnvironmentVariable('FRONT_DOOR_PROFILE_ID', '')
param dnsZoneOrRecordSetId = readEnvironmentVariable('DNS_ZONE_OR_RECORD_SET_ID', '')
param appConfigurationStoreId = readEnvironmentVariable('APP_CONFIGURATION_STORE_ID', '')
param sqlPrimaryServerId = readEnvironmentVariable('SQL_PRIMARY_SERVER_ID', '')
param sqlSecondaryServerId = readEnvironmentVariable('SQL_SECONDARY_SERVER_ID', '')
param cosmosAccountId = readEnvironmentVariable('COSMOS_ACCOUNT_ID', '')
param storageAccountId = readEnvironmentVariable('STORAGE_ACCOUNT_ID', '')
// Another cloud than the public one: its ARM endpoint and token audience. Empty: public cloud.
param armEndpoint = readEnvironmentVariable('ARM_ENDPOINT', '')
param armAudience = readEnvironmentVariable('ARM_AUDIENCE', '')

// Optional Entra ID in front of the app (README, Security): an existing app registration's
// client ID and its tenant ID. Both empty: off (function keys only).
param authClientId = readEnvironmentVariable('AUTH_CLIENT_ID', '')
param authTenantId = readEnvironmentVariable('AUTH_TENANT_ID', '')

// Optional vantage agents (docs/deploy.md, "Vantage agents"): regions, comma-separated, one agent
// in each (e.g. westeurope,eastus,southeastasia), and the application (client) ID of the agents'
// app registration, required with regions. Both empty: no agent, the controller judges alone.
var agentRegionList = readEnvironmentVariable('AGENT_REGIONS', '')
param agentRegions = empty(trim(agentRegionList)) ? [] : map(split(agentRegionList, ','), region => trim(region))
param agentAuthClientId = readEnvironmentVariable('AGENT_AUTH_CLIENT_ID', '')

// Policy (defaults as in the app; bounds are enforced by main.bicep):
// param failureThreshold = 3
// param recoveryThreshold = 3
// param checkIntervalSeconds = 30
// param cooldownSeconds = 300
// param failbackMode = 'manual'
// param probeTimeoutMs = 5000
// param probeExpectedStatus = '200-299'
// param probeBodyMatch = ''
// param probeMaxBodyBytes = 65536
// param probeFollowRedirects = false
// param standbyCheckEvery = 1
// param vantages = 'all'
// param quorum = 0
// param driftCheckEvery = 1
// param driftAction = 'report'
// param readinessCheckMinutes = 15
