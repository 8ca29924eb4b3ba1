// Optional App Service Authentication (Easy Auth) with Microsoft Entra ID in front of the
// function app, for an existing app registration: every request needs a bearer token issued by
// the tenant for that registration, and an unauthenticated call gets 401 (an API, so no login
// redirect). Only bearer-token validation is configured, so no client secret is needed. The
// platform then sets WEBSITE_AUTH_ENABLED and the x-ms-client-principal headers, from which the
// app reads the caller's app roles (reader, operator; src/core/identity.ts). The app roles are
// defined on the app registration, not here (README, Security). A vantage agent (agent.bicep)
// uses it too, with allowedApplications naming the controller's identity.

@description('Name of the function app to protect.')
param appName string

@description('Application (client) ID of the existing Entra ID app registration that represents the app.')
param clientId string

@description('Directory (tenant) ID of that app registration.')
param tenantId string

@description('Client IDs of the only applications (managed identities included) whose tokens are accepted (defaultAuthorizationPolicy.allowedApplications). Empty: any caller with a token for the registration; the app then checks the app roles itself.')
param allowedApplications string[] = []

@description('Name of the main.bicep parameter clientId comes from, named when it is refused.')
param clientIdParameter string = 'authClientId'

@description('Why `value`, the value of parameter `param`, is not a GUID (8-4-4-4-12 hexadecimal digits), or empty when it is one.')
func guidProblem(param string, value string) string =>
  length(value) == 36 && length(filter(range(0, length(value)), i => contains([8, 13, 18, 23], i) ? substring(value, i, 1) != '-' : !contains('0123456789abcdef', toLower(substring(value, i, 1))))) == 0
    ? ''
    : '${param} must be a GUID (8-4-4-4-12 hexadecimal digits), got "${value}"'

var clientIdProblem = guidProblem(clientIdParameter, clientId)
var tenantIdProblem = guidProblem('authTenantId', tenantId)

resource functionApp 'Microsoft.Web/sites@2024-11-01' existing = {
  name: appName
}

resource authSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: empty(clientIdProblem) ? clientId : fail(clientIdProblem)
          // The tenant's v2.0 issuer at this cloud's login endpoint (sovereign clouds included).
          openIdIssuer: empty(tenantIdProblem) ? '${environment().authentication.loginEndpoint}${tenantId}/v2.0' : fail(tenantIdProblem)
        }
        // v1 access tokens carry the application ID URI as audience, v2 tokens the client ID.
        // With allowedApplications, a token issued to any other application is refused (403).
        validation: union(
          {
            allowedAudiences: [
              'api://${clientId}'
              clientId
            ]
          },
          empty(allowedApplications)
            ? {}
            : {
                defaultAuthorizationPolicy: {
                  allowedApplications: allowedApplications
                }
              }
        )
      }
    }
  }
}
