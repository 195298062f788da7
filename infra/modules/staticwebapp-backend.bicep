// Deployed only with frontendHosting = 'staticWebApp'. Links the function app to the Static Web App as its backend: requests to https://<swa>/api/* are
// forwarded to the function app with the path unchanged (every API function's route starts with
// api/; host.json's routePrefix is empty).
//
// Side effect, by design: linking configures App Service authentication on the function app with
// the Static Web App as identity provider, so only requests that come through the Static Web App
// reach the HTTP functions; direct calls to *.azurewebsites.net are rejected. Service Bus and timer
// triggers are not affected. Do not manage authsettingsV2 of the function app elsewhere.
//
// Constraints that come with it: one linked backend per Static Web App; the function app must stay
// publicly reachable (no access restrictions / private endpoint); requests proxied through the Static
// Web App time out after 45 s, far below the Functions limit (API routes are short by design;
// uploads go straight to Blob Storage).

@description('Name of the existing Static Web App.')
param staticWebAppName string

@description('Resource ID of the function app to link.')
param backendResourceId string

@description('Region of the function app.')
param backendRegion string

resource site 'Microsoft.Web/staticSites@2024-04-01' existing = {
  name: staticWebAppName
}

resource backend 'Microsoft.Web/staticSites/linkedBackends@2024-04-01' = {
  parent: site
  name: 'functionapp'
  properties: {
    backendResourceId: backendResourceId
    region: backendRegion
  }
}

@description('Name of the linked backend.')
output name string = backend.name
