package quality

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// scoredProfile is p restricted to the columns the metrics score, which
// checkTable guarantees every table has.
func scoredProfile(p *profile.Profile) *profile.Profile {
	out := &profile.Profile{Version: p.Version, Rows: p.Rows}
	for _, pc := range p.Columns {
		if scored(pc.Kind) {
			out.Columns = append(out.Columns, pc)
		}
	}
	return out
}

// project returns rows of t restricted to, and ordered as, the columns of
// p, all of which t must have, so tables with different column orders line
// up.
func project(t *table.Table, p *profile.Profile, rows [][]string) *table.Table {
	names := make([]string, len(p.Columns))
	idx := make([]int, len(p.Columns))
	for i, pc := range p.Columns {
		names[i], idx[i] = pc.Name, t.Col(pc.Name)
	}
	out := &table.Table{Columns: names, Rows: make([][]string, len(rows))}
	for i, r := range rows {
		nr := make([]string, len(idx))
		for j, ci := range idx {
			nr[j] = r[ci]
		}
		out.Rows[i] = nr
	}
	return out
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines and returns the
// first error.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	workers := min(n, runtime.GOMAXPROCS(0))
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = f(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// newRand returns the generator a stage draws from; stream separates the
// stages so that changing one does not shift the others.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
