// Parameters for `az deployment group create -g <rg> -p bicep/main.bicepparam` (scripts/deploy
// sets the environment variables read here). Every other parameter keeps the default declared in
// main.bicep; uncomment a line below to change one for this deployment.
using 'main.bicep'

// Seeds the resource token: a different name gives a separate set of resources in the same group.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'failover')

// The pair to watch (required: https health URLs of the primary and the secondary).
param primaryEndpoint = readEnvironmentVariable('PRIMARY_ENDPOINT')
param secondaryEndpoint = readEnvironmentVariable('SECONDARY_ENDPOINT')

// Optional webhook for every transition (a secure parameter: it stays out of deployment history).
param notifyWebhookUrl = readEnvironmentVariable('NOTIFY_WEBHOOK_URL', '')

// Optional alert receivers (an action group is created only when one is set). The webhook is a
// secure parameter.
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param alertWebhookUrl = readEnvironmentVariable('ALERT_WEBHOOK_URL', '')

// Who may edit the state row with `az storage entity ... --auth-mode login` (scripts/deploy fills
// it with the signed-in user's object ID unless told not to). Empty: nobody besides the app.
param operatorPrincipalId = readEnvironmentVariable('OPERATOR_PRINCIPAL_ID', '')
param operatorPrincipalType = readEnvironmentVariable('OPERATOR_PRINCIPAL_TYPE', 'User')

// Policy (defaults as in the app; bounds are enforced by main.bicep):
// param failureThreshold = 3
// param recoveryThreshold = 3
// param checkIntervalSeconds = 30
// param cooldownSeconds = 300
// param failbackMode = 'manual'
// param probeTimeoutMs = 5000
// param probeExpectedStatus = '200-299'
// param probeBodyMatch = ''
// param probeMaxBodyBytes = 65536
// param probeFollowRedirects = false
