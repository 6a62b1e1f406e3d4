package datasets

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/state"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"adult.csv":          "adult.csv",
		"../../etc/passwd":   "passwd",
		`C:\Users\x\a b.csv`: "a_b.csv",
		"..":                 "data",
		"":                   "data",
		".hidden":            "hidden",
		"naïve.csv":          "na_ve.csv",
	}
	for in, want := range tests {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	if k := DatasetKey("t1", "d1", "../../x"); !strings.HasPrefix(k, "tenants/t1/datasets/d1/") {
		t.Errorf("key escapes its prefix: %s", k)
	}
}

func TestStoreTenantScoping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st)
	if err := s.Create(ctx, &Dataset{ID: "d1", Tenant: "a", Key: DatasetKey("a", "d1", "x.csv")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a", "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b", "d1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant: %v", err)
	}
	if l, err := s.List(ctx, "b", 10); err != nil || len(l) != 0 {
		t.Errorf("other tenant's list: %v %v", l, err)
	}
	if l, err := s.List(ctx, "a", 10); err != nil || len(l) != 1 {
		t.Errorf("list: %v %v", l, err)
	}
}
