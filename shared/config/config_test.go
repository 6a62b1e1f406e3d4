package config

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadMap(context.Background(), map[string]string{})
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if c.StateURL != "bolt://.synthos/state.db" || c.ObjectsURL != "file://.synthos/objects" || c.Events != "embedded" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.ReadyTimeout != 2*time.Second || c.MaxAttempts != 5 {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if eps, delta := c.DPBudget(); eps != DefaultDPBudgetEpsilon || delta != DefaultDPBudgetDelta {
		t.Errorf("privacy budget defaults = (%v, %v), want (%v, %v)", eps, delta, DefaultDPBudgetEpsilon, DefaultDPBudgetDelta)
	}
	if c.MaxUploadBytes != 5<<30 {
		t.Errorf("upload limit default = %d, want 5 GiB", c.MaxUploadBytes)
	}
	var none *Config
	if eps, delta := none.DPBudget(); eps != DefaultDPBudgetEpsilon || delta != DefaultDPBudgetDelta {
		t.Errorf("nil Config privacy budget = (%v, %v)", eps, delta)
	}
	z, err := LoadMap(context.Background(), map[string]string{"SYNTHOS_DP_BUDGET_EPSILON": "0", "SYNTHOS_DP_BUDGET_DELTA": "1e-6"})
	if err != nil {
		t.Fatalf("a zero default budget is valid: %v", err)
	}
	if eps, delta := z.DPBudget(); eps != 0 || delta != 1e-6 {
		t.Errorf("privacy budget = (%v, %v), want (0, 1e-6)", eps, delta)
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"state scheme", map[string]string{"SYNTHOS_STATE_URL": "postgres://x"}, []string{"SYNTHOS_STATE_URL", `"postgres"`, "bolt"}},
		{"firestore without project", map[string]string{"SYNTHOS_STATE_URL": "firestore://"}, []string{"SYNTHOS_STATE_URL", "project id"}},
		{"objects scheme", map[string]string{"SYNTHOS_OBJECTS_URL": "ftp://x"}, []string{"SYNTHOS_OBJECTS_URL", "gs"}},
		{"objects not a url", map[string]string{"SYNTHOS_OBJECTS_URL": "just-a-dir"}, []string{"SYNTHOS_OBJECTS_URL", "not a URL"}},
		{"pubsub needs project", map[string]string{"SYNTHOS_EVENTS": "pubsub"}, []string{"GOOGLE_CLOUD_PROJECT"}},
		{"events", map[string]string{"SYNTHOS_EVENTS": "kafka"}, []string{"SYNTHOS_EVENTS", "embedded or pubsub"}},
		{"level", map[string]string{"SYNTHOS_LOG_LEVEL": "loud"}, []string{"SYNTHOS_LOG_LEVEL"}},
		{"addr", map[string]string{"SYNTHOS_ADDR": "8080"}, []string{"SYNTHOS_ADDR", "host:port"}},
		{"attempts", map[string]string{"SYNTHOS_MAX_ATTEMPTS": "0"}, []string{"SYNTHOS_MAX_ATTEMPTS"}},
		{"duration syntax", map[string]string{"SYNTHOS_READY_TIMEOUT": "soon"}, []string{"SYNTHOS_READY_TIMEOUT"}},
		{"dp budget negative", map[string]string{"SYNTHOS_DP_BUDGET_EPSILON": "-1"}, []string{"SYNTHOS_DP_BUDGET_EPSILON", "out of range"}},
		{"vCPU price negative", map[string]string{"SYNTHOS_COST_VCPU_SECOND": "-0.1"}, []string{"SYNTHOS_COST_VCPU_SECOND", "≥ 0"}},
		{"GiB size not finite", map[string]string{"SYNTHOS_COST_GIB": "Inf"}, []string{"SYNTHOS_COST_GIB", "≥ 0"}},
		{"dp budget huge", map[string]string{"SYNTHOS_DP_BUDGET_EPSILON": "1e9"}, []string{"SYNTHOS_DP_BUDGET_EPSILON"}},
		{"dp budget not a number", map[string]string{"SYNTHOS_DP_BUDGET_EPSILON": "lots"}, []string{"SYNTHOS_DP_BUDGET_EPSILON"}},
		{"dp delta zero", map[string]string{"SYNTHOS_DP_BUDGET_DELTA": "0"}, []string{"SYNTHOS_DP_BUDGET_DELTA", "(0, 1)"}},
		{"dp delta one", map[string]string{"SYNTHOS_DP_BUDGET_DELTA": "1"}, []string{"SYNTHOS_DP_BUDGET_DELTA"}},
		{"workers negative", map[string]string{"SYNTHOS_WORKERS": "-1"}, []string{"SYNTHOS_WORKERS", "out of range"}},
		{"workers huge", map[string]string{"SYNTHOS_WORKERS": "100000"}, []string{"SYNTHOS_WORKERS"}},
		{"subscription workers over workers", map[string]string{"SYNTHOS_WORKERS": "4", "SYNTHOS_SUBSCRIPTION_WORKERS": "5"}, []string{"SYNTHOS_SUBSCRIPTION_WORKERS"}},
		{"push auth", map[string]string{"SYNTHOS_PUSH_AUTH": "basic"}, []string{"SYNTHOS_PUSH_AUTH", "oidc"}},
		{"push service account", map[string]string{"SYNTHOS_PUSH_SERVICE_ACCOUNTS": "a@x.iam.gserviceaccount.com,nobody"}, []string{"SYNTHOS_PUSH_SERVICE_ACCOUNTS", `"nobody"`}},
		{"upload limit tiny", map[string]string{"SYNTHOS_MAX_UPLOAD_BYTES": "1000"}, []string{"SYNTHOS_MAX_UPLOAD_BYTES", "out of range", "5368709120 (5 GiB"}},
		{"upload limit beyond Cloud Storage", map[string]string{"SYNTHOS_MAX_UPLOAD_BYTES": "6000000000000"}, []string{"SYNTHOS_MAX_UPLOAD_BYTES", "5 TiB"}},
		{"upload limit with a unit", map[string]string{"SYNTHOS_MAX_UPLOAD_BYTES": "5GiB"}, []string{"SYNTHOS_MAX_UPLOAD_BYTES"}},
		{"compliance regime", map[string]string{"SYNTHOS_COMPLIANCE_REGIMES": "gdpr,pipeda"}, []string{"SYNTHOS_COMPLIANCE_REGIMES", `"pipeda"`}},
		{"tenant compliance regime", map[string]string{"SYNTHOS_COMPLIANCE_TENANT_REGIMES": "acme:gdpr+lgpd"}, []string{"SYNTHOS_COMPLIANCE_TENANT_REGIMES", `"lgpd"`}},
		{"several at once", map[string]string{"SYNTHOS_EVENTS": "x", "SYNTHOS_LOG_LEVEL": "y"}, []string{"SYNTHOS_EVENTS", "SYNTHOS_LOG_LEVEL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadMap(context.Background(), tc.env)
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestComplianceRegimes reads the per-tenant policy and the default.
func TestComplianceRegimes(t *testing.T) {
	t.Parallel()
	c, err := LoadMap(context.Background(), map[string]string{"SYNTHOS_COMPLIANCE_TENANT_REGIMES": "acme:gdpr+ccpa,clinic:hipaa"})
	if err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]string{"acme": "gdpr,ccpa", "clinic": "hipaa", "other": "gdpr,hipaa,ccpa"} {
		if got := strings.Join(c.Regimes(tenant), ","); got != want {
			t.Errorf("Regimes(%s) = %s, want %s", tenant, got, want)
		}
	}
}

// TestREADMEDocumentsEveryVariable keeps the README's table true.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	for _, v := range append(append(slices.Clone(Variables), billing.ConfigVariables...), billing.LinksVariables...) {
		if !strings.Contains(string(b), "`"+v+"`") {
			t.Errorf("README.md does not document %s", v)
		}
	}
}

func TestWorkersAndPushAuth(t *testing.T) {
	t.Parallel()
	c, err := LoadMap(context.Background(), map[string]string{
		"SYNTHOS_WORKERS": "8", "SYNTHOS_SUBSCRIPTION_WORKERS": "3",
		"SYNTHOS_PUSH_AUDIENCE":         "https://europe-west1-p.cloudfunctions.net/synthos-generate",
		"SYNTHOS_PUSH_SERVICE_ACCOUNTS": "a@p.iam.gserviceaccount.com,b@p.iam.gserviceaccount.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 8 || c.SubscriptionWorkers != 3 || len(c.PushServiceAccounts) != 2 || c.PushServiceAccounts[1] != "b@p.iam.gserviceaccount.com" {
		t.Errorf("loaded %+v", c)
	}
	if on, err := c.PushOIDC(); !on || err != nil {
		t.Errorf("PushOIDC = %v, %v; want true, nil", on, err)
	}

	// The defaults verify push tokens but name nothing to verify against:
	// a push function refuses to start, naming both variables.
	d, err := LoadMap(context.Background(), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	on, err := d.PushOIDC()
	if !on || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "SYNTHOS_PUSH_AUDIENCE") || !strings.Contains(err.Error(), "SYNTHOS_PUSH_SERVICE_ACCOUNTS") {
		t.Errorf("PushOIDC with defaults = %v, %v; want true and an error naming both variables", on, err)
	}
	n, err := LoadMap(context.Background(), map[string]string{"SYNTHOS_PUSH_AUTH": "none"})
	if err != nil {
		t.Fatal(err)
	}
	if on, err := n.PushOIDC(); on || err != nil {
		t.Errorf("PushOIDC with none = %v, %v; want false, nil", on, err)
	}
}
