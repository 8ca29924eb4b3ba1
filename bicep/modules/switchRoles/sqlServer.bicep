// SQL Server Contributor for the app's identity on one Azure SQL logical server, deployed in the
// server's own resource group (and subscription): the narrowest built-in role and scope a
// sql_failover_group switch step needs (read the failover group, ask the server to fail over).

@description('Name of the logical server, in the resource group this module is deployed to.')
param serverName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var sqlServerContributor = '6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437'

resource server 'Microsoft.Sql/servers@2021-11-01' existing = {
  name: serverName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(server.id, identityId, sqlServerContributor)
  scope: server
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sqlServerContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: sql_failover_group switch steps on this server.'
  }
}
