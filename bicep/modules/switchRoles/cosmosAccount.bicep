// DocumentDB Account Contributor for the app's identity on one Azure Cosmos DB account, deployed
// in the account's own resource group (and subscription): the narrowest built-in role and scope a
// cosmos_db switch step needs (read the account, change its failover priorities).

@description('Name of the Cosmos DB account, in the resource group this module is deployed to.')
param accountName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var documentDbAccountContributor = '5bd9cd88-fe45-4216-938b-f97437e15450'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, identityId, documentDbAccountContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', documentDbAccountContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: cosmos_db switch steps on this account.'
  }
}
