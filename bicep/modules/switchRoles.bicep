// Roles for the switch steps (README, "Moving traffic"): for each switch target given by its
// resource ID, the app's identity gets the one built-in role its step kind needs, on that
// resource only (not its resource group or subscription). A target may live in any resource
// group of any subscription: each assignment is a module deployed there. An empty ID assigns
// nothing; a malformed one fails the deployment with a message naming the parameter.

@description('Name of the user-assigned identity (in this resource group) that receives the roles.')
param identityName string

@description('Resource ID of a Traffic Manager profile (Traffic Manager Contributor on it), or empty.')
param trafficManagerProfileId string

@description('Resource ID of a Front Door Standard/Premium profile (CDN Profile Contributor on it), or empty.')
param frontDoorProfileId string

@description('Resource ID of an Azure DNS zone, or of one A or CNAME record set in it (DNS Zone Contributor on it), or empty.')
param dnsZoneOrRecordSetId string

@description('Resource ID of an App Configuration store (App Configuration Data Owner on it), or empty.')
param appConfigurationStoreId string

@description('Resource ID of the Azure SQL logical server that is primary in a sql_failover_group step\'s failover group when the primary is active (SQL Server Contributor on it), or empty.')
param sqlPrimaryServerId string

@description('Resource ID of its partner server in the failover group (SQL Server Contributor on it), or empty.')
param sqlSecondaryServerId string

@description('Resource ID of an Azure Cosmos DB account a cosmos_db step switches (DocumentDB Account Contributor on it), or empty.')
param cosmosAccountId string

@description('Resource ID of a storage account a storage_account step fails over (Storage Account Contributor on it), or empty.')
param storageAccountId string

@description('Where a switch target lives, from its resource ID.')
type switchTarget = {
  @description('Subscription of the target.')
  subscriptionId: string
  @description('Resource group of the target.')
  resourceGroup: string
  @description('Name of the target resource.')
  name: string
  @description('Record type (A or CNAME) when the target is a DNS record set, else empty.')
  recordType: string
  @description('Record set name when the target is a DNS record set, else empty.')
  recordName: string
}

@description('Where this deployment runs: the placeholder scope of a target that is not set.')
type here = {
  @description('Subscription of this deployment.')
  subscriptionId: string
  @description('Resource group of this deployment.')
  resourceGroup: string
}

@description('Why the segments `p` of a resource ID are not those of a `type` resource (or, with `recordTypes`, of one of its record sets of those types), or empty when they are.')
func segmentsProblem(p string[], type string, recordTypes string[]) string =>
  (length(p) != 9 && (empty(recordTypes) || length(p) != 11))
    ? 'it has ${length(p) - 1} path segments, not 8${empty(recordTypes) ? '' : ' or 10'}'
    : (!empty(p[0]) || toLower(p[1]) != 'subscriptions' || empty(p[2]) || toLower(p[3]) != 'resourcegroups' || empty(p[4]) || toLower(p[5]) != 'providers' || empty(p[8]))
        ? 'it is not of the form /subscriptions/.../resourceGroups/.../providers/...'
        : toLower('${p[6]}/${p[7]}') != toLower(type)
            ? 'it names a ${p[6]}/${p[7]} resource'
            : length(p) != 11
                ? ''
                : !contains(recordTypes, toUpper(p[9]))
                    ? 'its record set type is ${p[9]}, not ${join(recordTypes, ' or ')}'
                    : empty(p[10]) ? 'its record set name is empty' : ''

@description('Why `id`, the value of parameter `param`, is not the resource ID of a `type` resource (or, with `recordTypes`, of one of its record sets of those types), or empty when it is one.')
func targetIdProblem(param string, id string, type string, recordTypes string[]) string =>
  empty(segmentsProblem(split(id, '/'), type, recordTypes))
    ? ''
    : '${param} must be the resource ID of a ${type} resource, /subscriptions/<subscription id>/resourceGroups/<resource group>/providers/${type}/<name>${empty(recordTypes) ? '' : ' (or of one of its record sets, .../<name>/${join(recordTypes, '|')}/<record set name>)'}, but ${segmentsProblem(split(id, '/'), type, recordTypes)}: "${id}"'

@description('The target a valid resource ID names, from its segments `p`.')
func targetFromSegments(p string[]) switchTarget => {
  subscriptionId: p[2], resourceGroup: p[4], name: p[8], recordType: length(p) == 11 ? toUpper(p[9]) : '', recordName: length(p) == 11 ? p[10] : ''
}

@description('The target named by `id` (a `type` resource, or one of its `recordTypes` record sets); a placeholder in `deployment` when `id` is empty (nothing is deployed there); a deployment error naming `param` when `id` is malformed.')
func targetOf(param string, id string, type string, recordTypes string[], deployment here) switchTarget =>
  empty(id)
    ? { subscriptionId: deployment.subscriptionId, resourceGroup: deployment.resourceGroup, name: 'none', recordType: '', recordName: '' }
    : empty(targetIdProblem(param, id, type, recordTypes)) ? targetFromSegments(split(id, '/')) : fail(targetIdProblem(param, id, type, recordTypes))

var deployment = {
  subscriptionId: subscription().subscriptionId
  resourceGroup: resourceGroup().name
}
var trafficManager = targetOf('trafficManagerProfileId', trafficManagerProfileId, 'Microsoft.Network/trafficManagerProfiles', [], deployment)
var frontDoor = targetOf('frontDoorProfileId', frontDoorProfileId, 'Microsoft.Cdn/profiles', [], deployment)
var dns = targetOf('dnsZoneOrRecordSetId', dnsZoneOrRecordSetId, 'Microsoft.Network/dnsZones', ['A', 'CNAME'], deployment)
var appConfiguration = targetOf('appConfigurationStoreId', appConfigurationStoreId, 'Microsoft.AppConfiguration/configurationStores', [], deployment)
var sqlPrimary = targetOf('sqlPrimaryServerId', sqlPrimaryServerId, 'Microsoft.Sql/servers', [], deployment)
var storageAccount = targetOf('storageAccountId', storageAccountId, 'Microsoft.Storage/storageAccounts', [], deployment)
var cosmos = targetOf('cosmosAccountId', cosmosAccountId, 'Microsoft.DocumentDB/databaseAccounts', [], deployment)
var sqlSecondary = targetOf('sqlSecondaryServerId', sqlSecondaryServerId, 'Microsoft.Sql/servers', [], deployment)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

module onTrafficManager 'switchRoles/trafficManager.bicep' = if (!empty(trafficManagerProfileId)) {
  name: 'switch-role-traffic-manager'
  scope: resourceGroup(trafficManager.subscriptionId, trafficManager.resourceGroup)
  params: {
    profileName: trafficManager.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onFrontDoor 'switchRoles/frontDoor.bicep' = if (!empty(frontDoorProfileId)) {
  name: 'switch-role-front-door'
  scope: resourceGroup(frontDoor.subscriptionId, frontDoor.resourceGroup)
  params: {
    profileName: frontDoor.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onDns 'switchRoles/dns.bicep' = if (!empty(dnsZoneOrRecordSetId)) {
  name: 'switch-role-dns'
  scope: resourceGroup(dns.subscriptionId, dns.resourceGroup)
  params: {
    zoneName: dns.name
    recordType: dns.recordType
    recordName: dns.recordName
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onAppConfiguration 'switchRoles/appConfiguration.bicep' = if (!empty(appConfigurationStoreId)) {
  name: 'switch-role-app-configuration'
  scope: resourceGroup(appConfiguration.subscriptionId, appConfiguration.resourceGroup)
  params: {
    storeName: appConfiguration.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onSqlPrimary 'switchRoles/sqlServer.bicep' = if (!empty(sqlPrimaryServerId)) {
  name: 'switch-role-sql-primary'
  scope: resourceGroup(sqlPrimary.subscriptionId, sqlPrimary.resourceGroup)
  params: {
    serverName: sqlPrimary.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onSqlSecondary 'switchRoles/sqlServer.bicep' = if (!empty(sqlSecondaryServerId)) {
  name: 'switch-role-sql-secondary'
  scope: resourceGroup(sqlSecondary.subscriptionId, sqlSecondary.resourceGroup)
  params: {
    serverName: sqlSecondary.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onCosmos 'switchRoles/cosmosAccount.bicep' = if (!empty(cosmosAccountId)) {
  name: 'switch-role-cosmos'
  scope: resourceGroup(cosmos.subscriptionId, cosmos.resourceGroup)
  params: {
    accountName: cosmos.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module onStorageAccount 'switchRoles/storageAccount.bicep' = if (!empty(storageAccountId)) {
  name: 'switch-role-storage-account'
  scope: resourceGroup(storageAccount.subscriptionId, storageAccount.resourceGroup)
  params: {
    accountName: storageAccount.name
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}
