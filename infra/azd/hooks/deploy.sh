#!/bin/sh
# azd predeploy hook (also runnable alone after `azd provision`: sh infra/azd/hooks/deploy.sh):
# publishes the function app and the frontend to what infra/azd/main.bicep provisioned.
#
#   YTDLP_BINARY, FFMPEG_BINARY, FFPROBE_BINARY   passed to make package (the tools the app ships)
#
# The outputs come from the azd environment (azd stores each Bicep output under its name).
set -eu
cd "$(dirname "$0")/../../.."

output() {
  value=$(azd env get-value "$1" 2>/dev/null || true)
  printf '%s' "$value"
}

APP=$(output FUNCTION_APP_NAME)
HOSTING=$(output FRONTEND_HOSTING)
STORAGE=$(output STORAGE_ACCOUNT_URL)
SWA=$(output STATIC_WEB_APP_NAME)
RG=$(output AZURE_RESOURCE_GROUP)
if [ -z "$APP" ] || [ -z "$HOSTING" ]; then
  echo "deploy: FUNCTION_APP_NAME or FRONTEND_HOSTING is not in the azd environment; run azd provision first" >&2
  exit 1
fi

# The export first: with frontendHosting=functionApp make package copies it to dist/deploy/www.
npm --prefix frontend ci
npm --prefix frontend run build

make package YTDLP_BINARY="${YTDLP_BINARY:-}" FFMPEG_BINARY="${FFMPEG_BINARY:-}" FFPROBE_BINARY="${FFPROBE_BINARY:-}"
(cd dist/deploy && func azure functionapp publish "$APP" --custom)

if [ "$HOSTING" = staticWebApp ]; then
  make build
  bin/handler swa-config --dir frontend/out --storage-origin "$STORAGE"
  TOKEN=$(az staticwebapp secrets list --name "$SWA" --resource-group "$RG" --query properties.apiKey -o tsv)
  npx --yes @azure/static-web-apps-cli@2.0.10 deploy ./frontend/out --deployment-token "$TOKEN" --env production
fi
echo "deploy: published $APP ($HOSTING); frontend at $(output FRONTEND_URL)"
