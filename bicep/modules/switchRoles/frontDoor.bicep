// CDN Profile Contributor for the app's identity on one Front Door Standard/Premium profile
// (Microsoft.Cdn/profiles), deployed in the profile's own resource group (and subscription):
// the narrowest scope a front_door switch step needs (read and update origins).

@description('Name of the Front Door profile, in the resource group this module is deployed to.')
param profileName string

@description('Resource ID of the app\'s user-assigned identity (seeds the assignment\'s name).')
param identityId string

@description('Principal (object) ID of the app\'s user-assigned identity.')
param principalId string

var cdnProfileContributor = 'ec156ff8-a8d1-4d15-830c-5b80698ca432'

resource profile 'Microsoft.Cdn/profiles@2024-02-01' existing = {
  name: profileName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(profile.id, identityId, cdnProfileContributor)
  scope: profile
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cdnProfileContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Failover orchestrator: front_door switch steps on this profile.'
  }
}
