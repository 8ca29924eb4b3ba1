// Alerts on the app's telemetry, evaluated by Azure Monitor itself: they fire even when the app,
// its host or its timers are dead. Each goes to the optional action group (email and/or webhook);
// without either, the alerts still exist and show in the portal, with no notification.
// Metric names are those of src/core/telemetry.ts; README "Observe it" explains each alert.

@description('Prefix of every alert rule name (the rule\'s key follows it).')
param alertNamePrefix string

@description('Name of the action group, created only when an email or a webhook is given.')
param actionGroupName string

@description('Azure region of the log alert rules.')
param location string

@description('Tags applied to the alert resources.')
param tags { *: string }

@description('Name of the Application Insights component the log alerts query.')
param applicationInsightsName string

@description('Name of the storage account whose failed transactions are watched.')
param storageAccountName string

@description('Optional email address the action group notifies. Empty: no email.')
param alertEmail string = ''

@description('Optional webhook URL the action group calls (common alert schema). Empty: no webhook.')
@secure()
param alertWebhookUrl string = ''

@description('Percent of the app\'s HTTP requests answering 5xx, over 15 minutes, above which the 5xx alert fires.')
@minValue(1)
@maxValue(100)
param http5xxPercentThreshold int = 5

@description('The 5xx alert needs at least this many HTTP requests in its window (a single failed call of an idle app is not a rate).')
@minValue(1)
param http5xxMinimumRequests int = 10

@description('Failed storage transactions (server, throttling, network, authorization errors) in 5 minutes above which the storage alert fires.')
@minValue(1)
param storageErrorThreshold int = 10

var hasActionGroup = !empty(alertEmail) || !empty(alertWebhookUrl)

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (hasActionGroup) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'failover'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'email'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
    webhookReceivers: empty(alertWebhookUrl)
      ? []
      : [
          {
            name: 'webhook'
            serviceUri: alertWebhookUrl
            useCommonAlertSchema: true
          }
        ]
  }
}

var actionGroupIds = hasActionGroup ? [actionGroup.id] : []

// A group's heartbeat is the failover.cycles counter: one per completed cycle, exported every
// 60 s by the Azure Monitor distro, with the group's interval as an attribute. A group is
// stopped when its last cycle is older than 3 x its interval plus that 60 s export period.
// A day without any cycle at all (every group dead, or the app never started) is one row too.
var loopStoppedQuery = '''
let heartbeats = customMetrics
    | where name == "failover.cycles"
    | extend group = tostring(customDimensions["failover.group"]), interval_s = todouble(customDimensions["failover.check.interval"])
    | summarize last_cycle = max(timestamp), interval_s = max(interval_s) by group;
heartbeats
| extend allowed = (3 * interval_s + 60) * 1s
| where last_cycle < now() - allowed
| project group, last_cycle, interval_s, silent_for = now() - last_cycle
| union (heartbeats | count | where Count == 0 | project group = "(no group completed a cycle in the last day)")
'''

var switchQuery = '''
customMetrics
| where name == "failover.switches"
| extend group = tostring(customDimensions["failover.group"]), kind = tostring(customDimensions["failover.switch.kind"]), trigger = tostring(customDimensions["failover.switch.trigger"])
| summarize switches = sum(value) by group, kind, trigger
| where switches > 0
'''

var switchProblemQuery = '''
customMetrics
| where name in ("failover.switch.step.failures", "failover.switch.drift")
| extend group = tostring(customDimensions["failover.group"]), step = tostring(customDimensions["failover.switch.step.kind"]), phase = tostring(customDimensions["failover.switch.phase"]), error = tostring(customDimensions["error.type"])
| summarize occurrences = sum(value) by name, group, step, phase, error
| where occurrences > 0
'''

var switchHeldQuery = '''
customMetrics
| where name == "failover.switch.held"
| extend group = tostring(customDimensions["failover.group"]), error = tostring(customDimensions["error.type"])
| summarize held = sum(value) by group, error
| where held > 0
'''

var http5xxQuery = '''
requests
| where isnotempty(url)
| summarize total = count(), failed = countif(toint(resultCode) >= 500)
| extend failed_percent = 100.0 * failed / total
'''

var logAlerts = [
  {
    key: 'loop-stopped'
    displayName: 'Failover loop stopped'
    severity: 1
    query: loopStoppedQuery
    windowSize: 'P1D'
    evaluationFrequency: 'PT5M'
    description: 'A failover group completed no cycle for more than 3 x its check interval (plus the 60 s metric export period): nothing is watching its endpoints, so no failover will happen. First: open GET /api/status?group=<group> and the Durable status URL; if the orchestration is Failed, Terminated or missing, POST /api/start?group=<group> (the watchdog timer, which runs every 5 minutes, should have restarted it within 5 minutes: if it did not, the function app itself is down or stopped; check the app in the portal and its last deployment).'
    measure: ''
    threshold: 0
  }
  {
    key: 'switch-happened'
    displayName: 'Failover or failback happened'
    severity: 2
    query: switchQuery
    windowSize: 'PT5M'
    evaluationFrequency: 'PT5M'
    description: 'A failover group switched its active target (failover or failback, automatic, manual or forced; the row says which). Traffic now goes to the other endpoint. First: read GET /api/history?group=<group>&limit=5 for the reason and actor, and check that the endpoint that failed is being repaired; the cooldown (lock_until_utc) blocks further automatic switches for a while.'
    measure: ''
    threshold: 0
  }
  {
    key: 'switch-failed'
    displayName: 'Traffic switch failed or drifted'
    severity: 1
    query: switchProblemQuery
    windowSize: 'PT5M'
    evaluationFrequency: 'PT5M'
    description: 'A step of a group\'s switch plan failed to apply or verify, or was found not matching the active target (drift): traffic may not go where the state row says. First: read GET /api/status?group=<group> for the failing step and its error, check the app identity\'s role on that step\'s resource, then let the next cycle retry or fix the resource by hand.'
    measure: ''
    threshold: 0
  }
  {
    key: 'switch-held'
    displayName: 'Traffic switch needs an operator'
    severity: 0
    query: switchHeldQuery
    windowSize: 'PT5M'
    evaluationFrequency: 'PT5M'
    description: 'A permanent error (403, 404, a resource lock, a conflict, a refused request) stopped a group\'s traffic switch: the saga writes nothing more, and traffic stays where it is (on_failure=hold) or went back (on_failure=compensate), until a human acts. First: read GET /api/status?group=<group> (traffic summary: the step, the error and what to do) and GET /api/history?group=<group>&limit=5 (the switch_held entry and its writes); fix the cause (grant the role, remove the lock, correct the plan), then POST /api/retry_switch?group=<group> or run failover retry-switch.'
    measure: ''
    threshold: 0
  }
  {
    key: 'http-5xx'
    displayName: 'Failover app HTTP 5xx rate high'
    severity: 2
    query: http5xxQuery
    windowSize: 'PT15M'
    evaluationFrequency: 'PT5M'
    description: 'More than the set percentage of the app\'s HTTP requests answered 5xx over 15 minutes. 503 storage_unavailable means Table storage did not answer; 500 malformed_state or invalid_config means a bad row or setting (the message names it). First: query Application Insights requests and exceptions for the failing routes and read the error bodies.'
    measure: 'failed_percent'
    threshold: http5xxPercentThreshold
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: {
    name: '${alertNamePrefix}-${alert.key}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: alert.evaluationFrequency
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          empty(alert.measure)
            ? {
                query: alert.query
                timeAggregation: 'Count'
                operator: 'GreaterThan'
                threshold: alert.threshold
                failingPeriods: {
                  numberOfEvaluationPeriods: 1
                  minFailingPeriodsToAlert: 1
                }
              }
            : {
                query: '${alert.query}| where total >= ${http5xxMinimumRequests}'
                timeAggregation: 'Maximum'
                metricMeasureColumn: alert.measure
                operator: 'GreaterThan'
                threshold: alert.threshold
                failingPeriods: {
                  numberOfEvaluationPeriods: 1
                  minFailingPeriodsToAlert: 1
                }
              }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: actionGroupIds
      }
    }
  }
]

// Storage errors come from the storage account's own platform metrics: they are recorded even
// when the app cannot send telemetry.
resource storageErrors 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${alertNamePrefix}-storage-errors'
  location: 'global'
  tags: tags
  properties: {
    description: 'The storage account that holds the state rows, the app package and (on the Azure Storage backend) the task hub failed more than the set number of transactions in 5 minutes (server, timeout, throttling, network, authentication or authorization errors). The loop records CHECK_ERROR and retries, but failovers cannot be written while it lasts. First: check Azure status for Storage in the region, then the app identity\'s storage role assignments (AuthorizationError), then the storage account\'s Insights for throttling.'
    severity: 2
    enabled: true
    scopes: [
      storage.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'failed-transactions'
          metricNamespace: 'Microsoft.Storage/storageAccounts'
          metricName: 'Transactions'
          dimensions: [
            {
              name: 'ResponseType'
              operator: 'Include'
              values: [
                'ServerBusyError'
                'ServerOtherError'
                'ServerTimeoutError'
                'ClientThrottlingError'
                'ClientTimeoutError'
                'NetworkError'
                'AuthenticationError'
                'AuthorizationError'
              ]
            }
          ]
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: storageErrorThreshold
        }
      ]
    }
    autoMitigate: true
    actions: [
      for id in actionGroupIds: {
        actionGroupId: id
      }
    ]
  }
}

@description('Resource ID of the action group, or empty when no email or webhook was given.')
output actionGroupId string = hasActionGroup ? actionGroup.id : ''

