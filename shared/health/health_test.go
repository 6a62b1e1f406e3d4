package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		checks     map[string]CheckFunc
		wantStatus int
		want       map[string]string
	}{
		{"all ok", map[string]CheckFunc{
			"state":   func(context.Context) error { return nil },
			"objects": func(context.Context) error { return nil },
		}, 200, map[string]string{"state": "ok", "objects": "ok"}},
		{"one down", map[string]CheckFunc{
			"state":   func(context.Context) error { return errors.New("disk gone") },
			"objects": func(context.Context) error { return nil },
		}, 503, map[string]string{"state": "error", "objects": "ok"}},
		{"hung check times out", map[string]CheckFunc{
			"events": func(ctx context.Context) error { <-ctx.Done(); time.Sleep(time.Hour); return nil },
		}, 503, map[string]string{"events": "error"}},
		{"no checks", map[string]CheckFunc{}, 200, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New(50 * time.Millisecond)
			for n, f := range tc.checks {
				c.Add(n, f)
			}
			rec := httptest.NewRecorder()
			c.Readyz().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			var rep Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Checks) != len(tc.want) {
				t.Errorf("checks = %v", rep.Checks)
			}
			for n, s := range tc.want {
				if rep.Checks[n].Status != s {
					t.Errorf("%s = %+v, want %s", n, rep.Checks[n], s)
				}
			}
			if rep.Checks["state"].Status == "error" && rep.Checks["state"].Error != "disk gone" {
				t.Errorf("error text lost: %+v", rep.Checks["state"])
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("%d %q", rec.Code, rec.Body)
	}
}

func TestInfoDoesNotJudgeReadiness(t *testing.T) {
	c := New(time.Second)
	c.Add("state", func(context.Context) error { return nil })
	c.AddInfo("destinations", func() any { return []string{"bucket-a: unhealthy"} })
	rep := c.Run(t.Context())
	if rep.Status != "ready" {
		t.Fatalf("status = %s, want ready whatever the info says", rep.Status)
	}
	if got, ok := rep.Info["destinations"].([]string); !ok || len(got) != 1 {
		t.Errorf("info = %v", rep.Info)
	}
}
