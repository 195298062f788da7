# make dev     install what is missing, start services, migrate, serve the API on :7071
#              and the frontend (next dev) on :3000
# make test    vet + every test with -race against real PostgreSQL, Redis, Azurite
# make bench   every benchmark the project has
# make build   the handler for this machine (bin/handler)
# make package the linux/amd64 deploy folder (dist/deploy)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
DEV_DATABASE ?= videofn
# Set YTDLP_BINARY to a standalone yt-dlp build (yt-dlp_linux) to ship it.
YTDLP_BINARY ?=
# Set FFMPEG_BINARY and FFPROBE_BINARY to a pinned static linux/amd64 ffmpeg
# build (such as a johnvansickle.com or BtbN release) to ship them.
FFMPEG_BINARY ?=
FFPROBE_BINARY ?=

.PHONY: dev test bench build package tools services migrate vet fmt clean

tools:
	.ci/install.sh

services: tools
	.ci/services.sh

local.settings.json:
	cp local.settings.sample.json $@
	@echo "created local.settings.json from the sample; edit it to taste"

dev: local.settings.json
	.ci/install.sh
	.ci/services.sh --dev
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(DEV_DATABASE)'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres $(DEV_DATABASE)
	$(GO) build -o bin/handler ./handler
	eval "$$(node .ci/local-settings-env.mjs local.settings.json)" && bin/handler migrate && exec .ci/dev.sh

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.ci/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# -timeout: go test's default (10 min per package) is the handler package's
# whole run on a loaded 2-core machine; a hung test still fails, later.
test: services vet
	$(GO) test -race -count=1 -timeout 25m ./...

bench: services
	$(GO) test -p 1 -timeout 60m -run '^$$' -bench . -count 1 ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/handler ./handler

package:
	rm -rf dist/deploy && mkdir -p dist/deploy
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/deploy/handler ./handler
	cp host.json dist/deploy/
	cp -r functions/. dist/deploy/
	@if [ -n "$(YTDLP_BINARY)" ]; then \
	  mkdir -p dist/deploy/tools && cp "$(YTDLP_BINARY)" dist/deploy/tools/yt-dlp && \
	  (cd dist/deploy/tools && sha256sum yt-dlp > yt-dlp.sha256) && \
	  echo "package: shipped $(YTDLP_BINARY) as tools/yt-dlp ($$(cut -c1-16 dist/deploy/tools/yt-dlp.sha256)...)"; \
	else \
	  echo "package: no YTDLP_BINARY given; URL imports need one (make package YTDLP_BINARY=/path/to/yt-dlp_linux)"; \
	fi
	@for tool in ffmpeg ffprobe; do \
	  if [ "$$tool" = ffmpeg ]; then bin="$(FFMPEG_BINARY)"; else bin="$(FFPROBE_BINARY)"; fi; \
	  if [ -n "$$bin" ]; then \
	    mkdir -p dist/deploy/tools && cp "$$bin" dist/deploy/tools/$$tool && \
	    (cd dist/deploy/tools && sha256sum $$tool > $$tool.sha256) && \
	    echo "package: shipped $$bin as tools/$$tool ($$(cut -c1-16 dist/deploy/tools/$$tool.sha256)...)"; \
	  else \
	    echo "package: no $${tool^^}_BINARY given; video processing needs one (make package FFMPEG_BINARY=/path/to/ffmpeg FFPROBE_BINARY=/path/to/ffprobe)"; \
	  fi; \
	done
	@if [ -f frontend/out/index.html ]; then \
	  cp -r frontend/out dist/deploy/www && \
	  echo "package: copied the frontend export (frontend/out) to dist/deploy/www, served with frontendHosting=functionApp"; \
	else \
	  echo "package: no frontend/out (build it: npm --prefix frontend ci && npm --prefix frontend run build); the function app serves no frontend (fine with frontendHosting=staticWebApp)"; \
	fi
	@echo "package: dist/deploy is ready: cd dist/deploy && func azure functionapp publish <app> --custom"

migrate: local.settings.json
	eval "$$(node .ci/local-settings-env.mjs local.settings.json)" && $(GO) run ./handler migrate

clean:
	rm -rf bin dist
