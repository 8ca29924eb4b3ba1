// Storage Account Contributor for the app's identity on one storage account, deployed in the
// account's own resource group (and subscription): the narrowest built-in role and scope a
// storage_account switch step needs (read the account and its replication, fail it over).

@description('Name of the storage account, in the resource group this module is deployed to.')
param accountName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var storageAccountContributor = '17d1049b-9a84-46fb-8f53-869881c3d3ab'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, identityId, storageAccountContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageAccountContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: storage_account switch steps on this account.'
  }
}
