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

// A group's heartbeat is the failover.cycles counter: one row per 60 s export of the Azure Monitor
// exporter in which the group completed a cycle, with the group's interval as an attribute. Its
// silence is measured on the app's own data clock, the newest metric timestamp Application
// Insights holds for the app, not on now(): a delay that holds back all of the app's telemetry
// holds back the clock too, so it cannot look like a silent loop; while the app keeps sending
// (the cycle-age gauge every 60 s, the watchdog's reports every 5 minutes), a loop that sends
// nothing for more than 3 x its interval + 60 s (the export period) is stopped. The rule looks
// back 2 days (overrideQueryTimeRange, Azure Monitor's maximum) for the groups and their last
// heartbeat, and the watchdog reports every group every 5 minutes (failover.loop.overdue), so a
// loop that stays dead stays listed: its silence runs from its last heartbeat, or without one in
// the 2 days from its first report (max_of prefers a non-null value, whatever maxif gives). With
// no telemetry from the app at all in 2 days, one row says so. An app that stops sending
// altogether is the watchdog-silent alert's.
var loopStoppedQuery = '''
let clock = toscalar(customMetrics | summarize max(timestamp));
customMetrics
| where name in ("failover.cycles", "failover.loop.overdue")
| extend group = tostring(customDimensions["failover.group"]), interval_s = todouble(customDimensions["failover.check.interval"])
| summarize arg_max(timestamp, interval_s), last_cycle = maxif(timestamp, name == "failover.cycles"), first_seen = min(timestamp) by group
| extend since = max_of(last_cycle, first_seen)
| where clock - since > (3 * interval_s + 60) * 1s
| project group, last_cycle, interval_s, silent_for = clock - since
| union (print group = "(no telemetry from the app in the last 2 days)" | where isnull(clock))
'''

// The watchdog reports every group once per run (every 300 s, src/functions/watchdog.ts). Its
// reports have stopped arriving when the newest one was ingested more than 2 periods + the 60 s
// export period ago (one late run is tolerated): the watchdog, or the whole function app, or the
// app's telemetry is down. Measured on ingestion_time(), so a steady ingestion delay does not
// fire it; a stall of Application Insights' ingestion that long does, and the description says so.
var watchdogSilentQuery = '''
customMetrics
| where name == "failover.loop.overdue"
| summarize last_report = max(timestamp), last_arrival = max(ingestion_time())
| where isnull(last_arrival) or now() - last_arrival > (2 * 300 + 60) * 1s
| project last_report, last_arrival, silent_for = now() - last_arrival
'''

var switchQuery = '''
customMetrics
| where name == "failover.switches"
| extend group = tostring(customDimensions["failover.group"]), ['kind'] = tostring(customDimensions["failover.switch.kind"]), trigger = tostring(customDimensions["failover.switch.trigger"])
| summarize switches = sum(value) by group, ['kind'], trigger
| where switches > 0
'''

var switchProblemQuery = '''
customMetrics
| where name in ("failover.switch.step.failures", "failover.switch.drift")
| extend group = tostring(customDimensions["failover.group"]), step = tostring(customDimensions["failover.switch.step.kind"]), phase = tostring(customDimensions["failover.switch.phase"]), error = tostring(customDimensions["error.type"])
| summarize occurrences = sum(value) by name, group, step, phase, error
| where occurrences > 0
'''

// A check that probes the standby reports whether its streak of failed checks has reached the
// group's failure threshold (failover.standby.down, 1 or 0). The newest report per group decides.
var standbyDownQuery = '''
customMetrics
| where name == "failover.standby.down"
| extend group = tostring(customDimensions["failover.group"])
| summarize arg_max(timestamp, value) by group
| where value > 0
| project group, reported = timestamp
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
    windowSize: 'PT5M'
    evaluationFrequency: 'PT5M'
    lookback: 'P2D'
    description: 'A failover group completed no cycle for more than 3 x its check interval (plus the 60 s metric export period) while the app\'s other telemetry kept arriving: nothing checks its endpoints, so no failover will happen. The watchdog, which runs every 5 minutes, starts a loop that is Failed, Terminated or missing, wakes one whose next check is more than 3 intervals late and, still stuck 5 minutes later, terminates and starts it again. First: GET /api/status?group=<group> (or failover status --group <group>): the orchestration\'s runtime status, last_cycle_utc and next_check_utc; then GET /api/history?group=<group>&limit=5 (failover history) for the watchdog\'s loop_restarted or loop_resumed entries. Cycling again: the alert resolves by itself. Not cycling 15 minutes after the alert: the watchdog could not restart it; check that the function app is running (its state, last deployment and failing invocations in the portal) and the storage alerts.'
    measure: ''
    threshold: 0
  }
  {
    key: 'watchdog-silent'
    displayName: 'Failover watchdog silent'
    severity: 1
    query: watchdogSilentQuery
    windowSize: 'PT5M'
    evaluationFrequency: 'PT5M'
    lookback: 'P2D'
    description: 'No report of the watchdog timer, which runs every 5 minutes and reports every group, has reached Application Insights for more than 2 of its periods (plus the 60 s export period): the watchdog is not running, or the whole function app is down (then no loop checks anything either), or the app\'s telemetry is not arriving. First: open the function app in the portal (running or stopped, its last deployment, the watchdog function\'s invocations and errors), then GET /api/status (or failover status): if the API answers and last_cycle_utc is recent, the loops run and only the watchdog or the telemetry is missing (check Azure status for Application Insights ingestion in the region).'
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
    lookback: ''
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
    lookback: ''
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
    lookback: ''
    description: 'A permanent error (403, 404, a resource lock, a conflict, a refused request) stopped a group\'s traffic switch: the saga writes nothing more, and traffic stays where it is (on_failure=hold) or went back (on_failure=compensate), until a human acts. First: read GET /api/status?group=<group> (traffic summary: the step, the error and what to do) and GET /api/history?group=<group>&limit=5 (the switch_held entry and its writes); fix the cause (grant the role, remove the lock, correct the plan), then POST /api/retry_switch?group=<group> or run failover retry-switch.'
    measure: ''
    threshold: 0
  }
  {
    key: 'standby-down'
    displayName: 'Failover standby down: nowhere to switch to'
    severity: 1
    query: standbyDownQuery
    windowSize: 'PT15M'
    evaluationFrequency: 'PT5M'
    lookback: ''
    description: 'A failover group\'s standby (the endpoint it would switch to) has failed FAILURE_THRESHOLD or more checks in a row: if the active side fails now, the failover is blocked and traffic has nowhere to go. First: GET /api/status?group=<group> (standby_healthy, standby_consecutive_failures, standby_unhealthy_since_utc and the last error) or failover status --group <group>; repair the standby. The alert resolves by itself once a check finds the standby healthy again (a standby_recovered audit entry).'
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
    lookback: ''
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
    properties: union(empty(alert.lookback) ? {} : { overrideQueryTimeRange: alert.lookback }, {
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
    })
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

