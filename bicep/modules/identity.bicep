// User-assigned managed identity: the only credential the function app uses, for storage
// (runtime, Durable task hub, state table, deployment package) and for Application Insights.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags { *: string }

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Name of the identity.')
output name string = identity.name

@description('Resource ID of the identity.')
output id string = identity.id

@description('Client (application) ID of the identity, used by the app to pick it.')
output clientId string = identity.properties.clientId

@description('Object (principal) ID of the identity, the subject of the role assignments.')
output principalId string = identity.properties.principalId
