# make dev     install what is missing, start services, migrate, serve the API on :7071
#              and the frontend (next dev) on :3000
# make test    frontend lint, types, unit tests and static export; vet + every
#              Go test with -race against real PostgreSQL, Redis, Azurite
#              (the end-to-end tests drive that export in Chromium)
# make bench   every benchmark the project has, then the frontend's first-load JS
# make e2e     only the end-to-end flows in Chromium; make screenshots copies
#              their screenshots of the main pages to docs/screenshots
# make build   the handler for this machine (bin/handler)
# make package the linux/amd64 deploy folder (dist/deploy)
# make fuzz    every go test -fuzz target for FUZZTIME (10s) each, one after another
# make load    the load run against the real handler (see internal/loadtest); not in make test

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
FRONTEND := npm --prefix frontend
# The project's Go packages: ./... would also take in the Go sources some npm
# packages ship (frontend/node_modules/flatted/golang).
GO_PACKAGES = $$($(GO) list ./... | grep -v /node_modules/)
export NEXT_TELEMETRY_DISABLED := 1

.PHONY: dev test bench build package tools services migrate vet fmt clean frontend-check frontend-build e2e screenshots lint-workflows fuzz load

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
	$(GO) vet $(GO_PACKAGES)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.ci/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The frontend's own checks, then the static export (frontend/out) that the
# handler's end-to-end tests serve and drive in Chromium.
frontend-check: tools
	$(FRONTEND) run lint
	$(FRONTEND) run typecheck
	$(FRONTEND) test
	$(FRONTEND) run build

frontend-build: tools
	$(FRONTEND) run build

# -timeout: go test's default (10 min per package) is the handler package's
# whole run on a loaded 2-core machine; a hung test still fails, later.
test: services vet lint-workflows frontend-check
	$(GO) test -race -count=1 -timeout 25m $(GO_PACKAGES)

# The first-load JavaScript report comes last: it fails when the library
# page's scripts pass their budget, after every benchmark has printed.
bench: services frontend-build
	$(GO) test -p 1 -timeout 60m -run '^$$' -bench . -count 1 $(GO_PACKAGES)
	node frontend/scripts/first-load-js.mjs frontend/out

# Only the end-to-end flows in Chromium (part of `make test`), against a fresh
# export; screenshots land in frontend/test-output/e2e.
e2e: services frontend-build
	$(GO) test -count=1 -timeout 20m -run '^TestFrontendInChromium$$' -v ./handler

# The end-to-end screenshots of the main pages, for the README (docs/screenshots/).
screenshots: e2e
	node frontend/scripts/copy-screenshots.mjs frontend/test-output/e2e docs/screenshots

# actionlint checks .github/workflows (expressions, action inputs, shell with shellcheck when it
# is installed; without it that part is skipped), shellcheck the azd hooks. Pinned: go run fetches this version through the
# module proxy once and caches it.
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
lint-workflows:
	$(GO) run $(ACTIONLINT) -color=false .github/workflows/*.yml
	@if command -v shellcheck >/dev/null; then shellcheck -s sh infra/azd/hooks/*.sh; else echo "lint-workflows: no shellcheck; infra/azd/hooks not checked"; fi

# Each fuzz target on its own for FUZZTIME (.ci/fuzz.sh); new crashers land
# in the package's testdata/fuzz/<FuzzName>, which plain go test (make test)
# then runs as seeds. Fails when any target found one.
FUZZTIME ?= 10s
FUZZ_TARGETS = \
	./internal/httpapi:FuzzDecodeQueueMessage ./internal/httpapi:FuzzDecodeValid \
	./internal/importer:FuzzValidateURL ./internal/media:FuzzUploadTitle \
	./internal/media:FuzzVideoCursor ./internal/posts:FuzzPostCursor \
	./internal/auth:FuzzVerifyAccessToken ./internal/auth:FuzzRefreshToken \
	./internal/auth:FuzzVerifyCSRF
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz.sh $(FUZZ_TARGETS)

# The load run: rising rates per endpoint next to a net/http hello handler,
# a closed-loop step of LOAD_WORKERS connections, then a LOAD_SOAK memory
# soak (default 60 s; the issue's proof is LOAD_SOAK=5m). LOAD_ONLY, a
# regexp, keeps only the endpoints it matches (and the baselines). Loopback only.
LOAD_SOAK ?= 60s
LOAD_STEP ?= 2s
LOAD_WORKERS ?= 64
LOAD_ONLY ?=
load: services
	$(GO) test -tags load -count=1 -timeout 30m -run '^TestLoad$$' -v ./handler \
	  -args -soak=$(LOAD_SOAK) -step=$(LOAD_STEP) -workers=$(LOAD_WORKERS) -only='$(LOAD_ONLY)'

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
