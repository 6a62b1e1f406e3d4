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
