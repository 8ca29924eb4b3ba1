// DNS Zone Contributor for the app's identity on one Azure DNS zone, or on one record set of it
// (A or CNAME, the record types a dns switch step writes), deployed in the zone's own resource
// group (and subscription). A record set is the narrowest scope; the zone lets one assignment
// cover several steps.

@description('Name of the DNS zone, in the resource group this module is deployed to.')
param zoneName string

@description('Type of the record set to scope the role to (A or CNAME), or empty for the whole zone.')
param recordType string

@description('Name of the record set (relative to the zone, e.g. www or @) when recordType is set.')
param recordName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var dnsZoneContributor = 'befefa01-2a29-4197-83a8-272ff33ce314'
var properties = {
  roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dnsZoneContributor)
  principalId: principalId
  principalType: 'ServicePrincipal'
  description: 'Failover orchestrator: dns switch steps on this ${empty(recordType) ? 'zone' : 'record set'}.'
}

resource zone 'Microsoft.Network/dnsZones@2018-05-01' existing = {
  name: zoneName
}

resource aRecordSet 'Microsoft.Network/dnsZones/A@2018-05-01' existing = if (recordType == 'A') {
  parent: zone
  name: recordName
}

resource cnameRecordSet 'Microsoft.Network/dnsZones/CNAME@2018-05-01' existing = if (recordType == 'CNAME') {
  parent: zone
  name: recordName
}

resource onZone 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (empty(recordType)) {
  name: guid(zone.id, identityId, dnsZoneContributor)
  scope: zone
  properties: properties
}

resource onARecordSet 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (recordType == 'A') {
  name: guid(aRecordSet.id, identityId, dnsZoneContributor)
  scope: aRecordSet
  properties: properties
}

resource onCnameRecordSet 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (recordType == 'CNAME') {
  name: guid(cnameRecordSet.id, identityId, dnsZoneContributor)
  scope: cnameRecordSet
  properties: properties
}
