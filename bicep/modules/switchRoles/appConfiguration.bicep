// App Configuration Data Owner for the app's identity on one App Configuration store, deployed
// in the store's own resource group (and subscription): the narrowest scope an
// app_configuration switch step needs (read and write key-values).

@description('Name of the App Configuration store, in the resource group this module is deployed to.')
param storeName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var appConfigurationDataOwner = '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b'

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' existing = {
  name: storeName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(store.id, identityId, appConfigurationDataOwner)
  scope: store
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appConfigurationDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: app_configuration switch steps on this store.'
  }
}
