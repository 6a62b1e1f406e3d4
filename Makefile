# Synthos — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
PKGS     ?= ./...
BENCH    ?= .
ADDR     ?= 127.0.0.1:8080
SCALE_ROWS ?= 10000000

.PHONY: run test fmt-check tidy-check vet unit bench lint build zip emulators clean help deploy destroy tf-validate deploy-check vulncheck bench-scale

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

run: ## run the whole platform locally on embedded drivers (state and objects under ./.synthos/)
	@echo "make run: compiling bin/synthos (the first build compiles every dependency and takes a few minutes; the packages print as they compile)"
	$(GO) build -v -o bin/synthos ./functions/cmd/synthos
	@echo "make run: starting the platform on $(ADDR)"
	bin/synthos serve --addr $(ADDR)

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

# govulncheck needs its vulnerability database (vuln.go.dev), which these
# machines cannot reach: it is not part of make test or CI. Run it where the
# database is reachable, e.g. before a release.
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
vulncheck: ## known vulnerabilities in the code's call graph (govulncheck; needs vuln.go.dev)
	$(GO) run $(GOVULNCHECK) $(PKGS)

bench-scale: ## scale benchmarks (parallel sampling, a shard per format, a SCALE_ROWS-row fan-out simulation) as a table in bench-scale.md
	@{ \
	$(GO) test -count=1 -run='^$$' -bench='SampleParallel' -benchtime=1000000x -benchmem ./shared/synth/ ./shared/dp/; \
	$(GO) test -count=1 -run='^$$' -bench='Shard' -benchtime=500000x -benchmem ./shared/fanout/; \
	SYNTHOS_BIG=1 SYNTHOS_SIM_ROWS=$(SCALE_ROWS) $(GO) test -count=1 -timeout 120m -run='^TestFanoutSimulation$$' -v ./shared/fanout/; \
	} 2>&1 | tee bench-scale.out | awk -f .ci/bench-table.awk > bench-scale.md; \
	cat bench-scale.md; \
	if grep -q '^FAIL' bench-scale.out; then echo "bench-scale: a run failed (see bench-scale.out)"; exit 1; fi

emulators: ## start the emulators and open a shell with their variables set
	.ci/with-emulators.sh $$SHELL

build: ## build the CLI into ./bin/synthos
	$(GO) build -o bin/synthos ./functions/cmd/synthos

# What the function build compiles: the root package and everything it
# imports; internal/ so that non-test code may import it (today only tests
# do). cloudbuild.yaml zips the same list (a test in terraform/ compares them).
ZIP_FILES := go.mod go.sum functions.go functions shared internal
zip: ## the Cloud Functions source zip (what cloudbuild.yaml uploads)
	rm -f dist/source.zip; mkdir -p dist
	zip -qr dist/source.zip $(ZIP_FILES) -x '*_test.go' '*/testdata/*'

# --- Deployment (README: Deployment) ---------------------------------------
# make deploy PROJECT=p REGION=r [BILLING_ACCOUNT=…] [SOURCE_OBJECT=…] [TF_VARS='-var k=v']
# BILLING_ACCOUNT defaults to the account the project is linked to.
TF              ?= terraform
PROJECT         ?=
REGION          ?= europe-west1
STATE_BUCKET    ?= $(PROJECT)-synthos-tfstate
SOURCE_BUCKET    = $(PROJECT)-synthos-source
AUDIT_BUCKET     = $(PROJECT)-synthos-audit-archive
BILLING_ACCOUNT ?=
TF_VARS         ?=
# A dirty tree gets a unique name: the functions are rebuilt only when the
# object name changes.
GIT_SHA         := $(shell git describe --always --dirty=-dirty-$$(date +%s) 2>/dev/null || echo local-$$(date +%s))
# Given: redeploy that zip (a rollback) without building or uploading one.
SOURCE_OBJECT   ?=
DEPLOY_OBJECT    = $(if $(SOURCE_OBJECT),$(SOURCE_OBJECT),source-$(GIT_SHA).zip)
TF_INIT          = $(TF) -chdir=terraform init -input=false -reconfigure \
                   -backend-config=bucket=$(STATE_BUCKET) -backend-config=prefix=synthos
TF_ARGS          = -input=false -var=project=$(PROJECT) -var=region=$(REGION) \
                   -var=source_object=$(DEPLOY_OBJECT) \
                   -var=billing_account=$(if $(BILLING_ACCOUNT),$(BILLING_ACCOUNT),$$(gcloud billing projects \
                     describe $(PROJECT) --format='value(billingAccountName)' | sed 's|^billingAccounts/||')) \
                   $(TF_VARS)

deploy-check:
	@test -n "$(PROJECT)" || { echo "usage: make deploy PROJECT=<project id> REGION=<region> [BILLING_ACCOUNT=…]"; exit 1; }
	@test -n "$(REGION)" || { echo "REGION is empty"; exit 1; }

deploy: deploy-check ## build and upload the source zip, terraform init/plan/apply (PROJECT=… REGION=…)
ifeq ($(SOURCE_OBJECT),)
	$(MAKE) zip
	gcloud storage buckets describe gs://$(SOURCE_BUCKET) --project=$(PROJECT) >/dev/null 2>&1 || \
	  gcloud storage buckets create gs://$(SOURCE_BUCKET) --project=$(PROJECT) --location=$(REGION) \
	    --uniform-bucket-level-access --public-access-prevention
	gcloud storage cp dist/source.zip gs://$(SOURCE_BUCKET)/$(DEPLOY_OBJECT)
endif
	$(TF_INIT)
	$(TF) -chdir=terraform plan $(TF_ARGS) -out=tfplan
	$(TF) -chdir=terraform apply -input=false tfplan
	@echo "API URL: $$($(TF) -chdir=terraform output -raw api_url)"
	@echo "First admin key (after adding the api-key-pepper secret version, README: Deployment):"
	@echo "  SYNTHOS_STATE_URL=firestore://$(PROJECT) SYNTHOS_SECRETS_URL=gcpsecretmanager://$(PROJECT) \\"
	@echo "    go run ./functions/cmd/synthos keys create --tenant TENANT --scope read,write,admin --name first-admin"

# The audit archive's locked retention can never be removed: the bucket
# cannot be deleted before its objects are 7 years old, so destroy refuses.
destroy: deploy-check ## terraform destroy; refuses while the audit archive's retention policy is locked
	@if ! out=$$(gcloud storage buckets describe gs://$(AUDIT_BUCKET) --project=$(PROJECT) --format=json 2>&1); then \
	  case "$$out" in *"not found"*|*"NotFound"*|*"404"*) ;; \
	  *) echo "refusing: cannot tell whether gs://$(AUDIT_BUCKET) is locked:"; echo "$$out"; exit 1;; esac; \
	elif echo "$$out" | grep -Eq '"(isLocked|is_locked)": *true'; then \
	  echo "refusing: gs://$(AUDIT_BUCKET) has a LOCKED retention policy (7 years)."; \
	  echo "A locked policy can never be removed or shortened, so the bucket cannot be deleted before its"; \
	  echo "objects are 7 years old and terraform destroy would fail part-way. See README: Deployment."; \
	  exit 1; \
	fi
	$(TF_INIT)
	$(TF) -chdir=terraform destroy $(TF_ARGS)

tf-validate: ## validate the Terraform offline (OpenTofu + Google provider in ../shared/tools)
	../shared/tools/tf-validate terraform
	../shared/tools/tf-validate terraform -- fmt -check -recursive

clean: ## remove local state and build outputs
	rm -rf .synthos bin dist terraform/tfplan
