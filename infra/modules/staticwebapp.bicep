// Static Web App (Standard) that serves the Next.js frontend. Standard is required for a linked
// backend: staticwebapp-backend.bicep links the function app so that https://<swa>/api/* is proxied
// to it and the browser talks to one origin (first-party cookies, no CORS). The link is a separate
// module because the function app needs this app's host name (FRONTEND_URL) before it exists.
//
// The site is created without a source repository: the frontend is deployed with its deployment
// token (`swa deploy`, see infra/README.md).

@description('Name of the Static Web App.')
param name string

@description('Region of the Static Web App resource (content is served from a global edge).')
param location string

@description('Tags applied to the Static Web App.')
param tags object

resource site 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // Linked backends serve only the production environment, and preview environments get public
    // URLs of their own; keep pull-request environments off.
    stagingEnvironmentPolicy: 'Disabled'
    allowConfigFileUpdates: true
  }
}

@description('Name of the Static Web App.')
output name string = site.name

@description('Default host name, e.g. red-sea-0123.azurestaticapps.net.')
output defaultHostname string = site.properties.defaultHostname
