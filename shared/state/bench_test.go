package state_test

import (
	"context"
	"path/filepath"
	"testing"

	"synthos.dev/synthos/shared/state"
)

type benchDoc struct {
	Tenant string `json:"tenant"`
	Status string `json:"status"`
	N      int64  `json:"n"`
}

func benchStore(b *testing.B) state.Store {
	b.Helper()
	s, err := state.OpenBolt(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatalf("OpenBolt: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.Set(b.Context(), "jobs", "job-1", benchDoc{Tenant: "t1", Status: "running"}); err != nil {
		b.Fatalf("Set: %v", err)
	}
	return s
}

func BenchmarkBoltGet(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		var d benchDoc
		if err := s.Get(ctx, "jobs", "job-1", &d); err != nil {
			b.Fatalf("Get: %v", err)
		}
	}
}

// BenchmarkBoltTxUpdate is a transactional read-modify-write; each commit is fsync'd, so this measures
// the disk's sync latency more than the code.
func BenchmarkBoltTxUpdate(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		err := s.RunTransaction(ctx, func(_ context.Context, tx state.Tx) error {
			var d benchDoc
			if err := tx.Get("jobs", "job-1", &d); err != nil {
				return err
			}
			d.N++
			return tx.Set("jobs", "job-1", d)
		})
		if err != nil {
			b.Fatalf("RunTransaction: %v", err)
		}
	}
}
