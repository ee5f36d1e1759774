# Shortcuts for the commands in README.md; .ci/run stays the CI gate. The tool versions are
# .ci/run's (cmd/gateway/deploy_test.go checks that they agree).
STATICCHECK_VERSION := v0.8.2
REDOCLY_VERSION     := 2.77.0
SPECTRAL_VERSION    := 6.16.3
IMAGE               ?= customer-gateway

.PHONY: run sandbox test fuzz bench lint build docker ci

run: ## the gateway, configured by the environment
	go run ./cmd/gateway

sandbox: ## the gateway on :8080 against in-process simulated vendors
	go run ./cmd/gateway --sandbox

test: ## every test, with the race detector
	go test -race -timeout 20m ./...

fuzz: ## every fuzzer, a bounded count of new random inputs each (not part of the gate)
	bash .ci/fuzz

bench: ## the gateway side by side with a bare net/http fan-out, on loopback (cmd/bench; BENCHFLAGS=-n 1000 ...)
	go run ./cmd/bench $(BENCHFLAGS)

lint: ## gofmt, go vet, staticcheck and the OpenAPI linters, as .ci/run runs them
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	npx --yes @redocly/cli@$(REDOCLY_VERSION) lint --config .redocly.yaml api/openapi.yaml
	npx --yes @stoplight/spectral-cli@$(SPECTRAL_VERSION) lint --ruleset .spectral.yaml --fail-severity=warn api/openapi.yaml

build: ## static binaries in bin/
	CGO_ENABLED=0 go build -o bin/ ./cmd/...

docker: ## the gateway image, and the simulator's
	docker build -t $(IMAGE) .
	docker build --target vendorsim -t $(IMAGE)-vendorsim .

ci: ## the CI gate
	bash .ci/run
