package plans

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if _, err := New(defaultPlans); err != nil {
		t.Fatalf("the built-in catalog is invalid: %v", err)
	}
	c := Default()
	if got := strings.Join(c.Names(), ","); got != "enterprise,free,pro" {
		t.Fatalf("Names = %s", got)
	}
	if c.Free().DPAllowed {
		t.Fatal("the free plan must not allow DP")
	}
	if _, ok := c.ForPrice("pri_anything"); ok {
		t.Fatal("the default catalog maps no price ids")
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json string
		ok         bool
	}{
		{"valid", `{"plans":[{"name":"free","rows_per_month":10,"rows_per_job":5,"concurrent_jobs":1,"report_retention_days":1},
			{"name":"pro","rows_per_month":100,"rows_per_job":50,"dp_allowed":true,"concurrent_jobs":2,"report_retention_days":30,"price_ids":["pri_1","price_1"]}]}`, true},
		{"no free plan", `{"plans":[{"name":"pro","rows_per_month":100,"rows_per_job":50,"concurrent_jobs":2,"report_retention_days":30}]}`, false},
		{"zero limit", `{"plans":[{"name":"free","rows_per_month":0,"rows_per_job":5,"concurrent_jobs":1,"report_retention_days":1}]}`, false},
		{"duplicate plan", `{"plans":[{"name":"free","rows_per_month":1,"rows_per_job":1,"concurrent_jobs":1,"report_retention_days":1},
			{"name":"free","rows_per_month":1,"rows_per_job":1,"concurrent_jobs":1,"report_retention_days":1}]}`, false},
		{"price in two plans", `{"plans":[{"name":"free","rows_per_month":1,"rows_per_job":1,"concurrent_jobs":1,"report_retention_days":1,"price_ids":["p"]},
			{"name":"pro","rows_per_month":1,"rows_per_job":1,"concurrent_jobs":1,"report_retention_days":1,"price_ids":["p"]}]}`, false},
		{"unknown field", `{"plans":[{"name":"free","rows":1}]}`, false},
		{"not JSON", `plans`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(strings.NewReader(tt.json))
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Decode = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok {
				if p, ok := c.ForPrice("price_1"); !ok || p.Name != "pro" {
					t.Fatalf("ForPrice(price_1) = %+v, %v", p, ok)
				}
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	valid := `{"plans":[{"name":"free","rows_per_month":7,"rows_per_job":7,"concurrent_jobs":1,"report_retention_days":1}]}`
	file := filepath.Join(t.TempDir(), "plans.json")
	if err := os.WriteFile(file, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		rows int64 // free plan's rows per month; 0 for an error
	}{
		{"default", nil, Default().Free().RowsPerMonth},
		{"file", map[string]string{EnvFile: file}, 7},
		{"inline", map[string]string{EnvJSON: valid}, 7},
		{"both", map[string]string{EnvFile: file, EnvJSON: valid}, 0},
		{"missing file", map[string]string{EnvFile: file + ".missing"}, 0},
		{"bad inline", map[string]string{EnvJSON: `{"plans":[]}`}, 0},
	}
	for _, tt := range tests {
		c, err := FromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if tt.rows == 0 {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
			}
			continue
		}
		if err != nil || c.Free().RowsPerMonth != tt.rows {
			t.Errorf("%s: %v, free rows %d, want %d", tt.name, err, c.Free().RowsPerMonth, tt.rows)
		}
	}
}

// TestAIBudget: the configuration's override (SYNTHOS_AI_BUDGETS) wins
// over the catalog's ai_budget_usd for the plans it names; 0 is no cap.
func TestAIBudget(t *testing.T) {
	t.Parallel()
	pro, _ := Default().Get(Pro)
	for _, tc := range []struct {
		name      string
		plan      Plan
		overrides []string
		usd       float64
		ok        bool
	}{
		{name: "catalog", plan: pro, usd: 50, ok: true},
		{name: "override", plan: pro, overrides: []string{"pro=75"}, usd: 75, ok: true},
		{name: "override of another plan", plan: pro, overrides: []string{"free=2"}, usd: 50, ok: true},
		{name: "override lifts the cap", plan: pro, overrides: []string{"pro=0"}, usd: 0, ok: false},
		{name: "no budget in the catalog", plan: Plan{Name: "custom"}, usd: 0, ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseAIBudgets(tc.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if usd, ok := tc.plan.AIBudget(o); usd != tc.usd || ok != tc.ok {
				t.Errorf("AIBudget = %v, %v; want %v, %v", usd, ok, tc.usd, tc.ok)
			}
		})
	}
	for _, bad := range []string{"pro", "pro=-1", "=5", "pro=NaN", "pro=lots"} {
		if _, err := ParseAIBudgets([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAIBudgets(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := New([]Plan{{Name: Free, RowsPerMonth: 1, RowsPerJob: 1, ConcurrentJobs: 1, ReportRetentionDays: 1, AIBudgetUSD: -1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a negative ai_budget_usd is accepted: %v", err)
	}
}
