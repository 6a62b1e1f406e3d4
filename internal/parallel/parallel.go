// Package parallel runs independent pieces of work on every core.
package parallel

import (
	"runtime"
	"sync"
)

// Each calls f(k) for every k in [0, n) on up to GOMAXPROCS
// goroutines and waits for them. f must touch only piece k's own state
// (its results go to slots indexed by k), so what it computes does not
// depend on the core count or the order the pieces run in.
func Each(n int, f func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for k := range n {
			f(k)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, n)
	for k := range n {
		next <- k
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for k := range next {
				f(k)
			}
		})
	}
	wg.Wait()
}
