// An Azure Monitor workbook over the app's telemetry: every group's active target, endpoint
// health, switches and loop liveness over time (queries in workbook.json).

@description('Azure region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags { *: string }

@description('Name of the Application Insights component the workbook reads.')
param applicationInsightsName string

@description('Resource name of the workbook (a GUID).')
param name string

@description('Name of the workbook as shown in the portal.')
param displayName string = 'Failover orchestrator'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: loadTextContent('workbook.json')
  }
}

@description('Resource ID of the workbook.')
output workbookId string = workbook.id
