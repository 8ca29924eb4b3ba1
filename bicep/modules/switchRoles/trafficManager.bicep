// Traffic Manager Contributor for the app's identity on one Traffic Manager profile, deployed in
// the profile's own resource group (and subscription): the narrowest scope a traffic_manager
// switch step needs (read and write endpointStatus).

@description('Name of the Traffic Manager profile, in the resource group this module is deployed to.')
param profileName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var trafficManagerContributor = 'a4b10055-b0c7-44c2-b00f-c7b5b3550cf7'

resource profile 'Microsoft.Network/trafficManagerProfiles@2022-04-01' existing = {
  name: profileName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(profile.id, identityId, trafficManagerContributor)
  scope: profile
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', trafficManagerContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: traffic_manager switch steps on this profile.'
  }
}
