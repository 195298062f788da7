#!/bin/sh
# azd preprovision hook: the first provisioning of an environment needs JWT_SECRET and
# DATA_ENCRYPTION_KEY (infra/main.bicep stores them in Key Vault). Generate each once and keep it in
# the azd environment; never regenerate DATA_ENCRYPTION_KEY (stored tokens would become unreadable):
# rotate it as docs/operations.md, "Rotate keys" says.
set -eu
if ! azd env get-value JWT_SECRET >/dev/null 2>&1; then
  azd env set JWT_SECRET "$(openssl rand -base64 48)"
  echo "preprovision: generated JWT_SECRET"
fi
if ! azd env get-value DATA_ENCRYPTION_KEY >/dev/null 2>&1; then
  azd env set DATA_ENCRYPTION_KEY "$(openssl rand -base64 32)"
  echo "preprovision: generated DATA_ENCRYPTION_KEY (copy it to your password manager)"
fi
