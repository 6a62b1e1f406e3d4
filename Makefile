# Synthos — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
PKGS     ?= ./...
BENCH    ?= .
ADDR     ?= 127.0.0.1:8080

.PHONY: run test fmt-check tidy-check vet unit bench lint build zip emulators clean help

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

run: ## run the whole platform locally on embedded drivers (state and objects under ./.synthos/)
	$(GO) run ./functions/cmd/synthos serve --addr $(ADDR)

test: fmt-check tidy-check vet ## gofmt check, go.mod tidiness, go vet, and go test -race with the Firestore and Pub/Sub emulators
	.ci/with-emulators.sh $(GO) test -race -count=1 -timeout 30m $(PKGS)

fmt-check: ## fail when a Go file is not gofmt'ed
	@out=$$(find . -name '*.go' -not -path './.git/*' -not -path './.synthos/*' | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check: ## fail when go.mod or go.sum is not what go mod tidy would write
	@$(GO) mod tidy -diff > /dev/null 2>&1 || { $(GO) mod tidy -diff; \
	echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result"; exit 1; }

vet: ## go vet
	$(GO) vet $(PKGS)

unit: ## tests without emulators (emulator suites skip, naming the service)
	$(GO) test -count=1 $(PKGS)

bench: ## benchmarks (BENCH=regexp PKGS=./shared/synth/...)
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchmem $(PKGS)

emulators: ## start the emulators and open a shell with their variables set
	.ci/with-emulators.sh $$SHELL

build: ## build the CLI into ./bin/synthos
	$(GO) build -o bin/synthos ./functions/cmd/synthos

zip: ## the Cloud Functions source zip (what cloudbuild.yaml uploads)
	rm -f dist/source.zip; mkdir -p dist
	zip -qr dist/source.zip go.mod go.sum functions.go functions shared internal -x '*_test.go' '*/testdata/*'

clean: ## remove local state and build outputs
	rm -rf .synthos bin dist
