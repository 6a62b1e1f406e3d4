package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/obs"
)

// TestLoadGetJob is an open-loop load test of GET /v1/jobs/{id} on the
// embedded store, behind SYNTHOS_LOADTEST=1 (it takes the machine for its
// duration):
//
//	SYNTHOS_LOADTEST=1 go test -run TestLoadGetJob -v ./functions/api
//
// Requests are sent at a fixed rate (SYNTHOS_LOADTEST_RPS, default 2000)
// for SYNTHOS_LOADTEST_DURATION (default 10s) over a real TCP listener,
// whatever the answers' latency (open loop), and each latency is measured
// from the request's scheduled time, so a stall counts against every request
// it delays (no coordinated omission). The full stack runs: obs middleware
// with a JSON logger, key verification (cached), the bolt read and JSON
// encoding. The target is p99 ≤ SYNTHOS_LOADTEST_P99 (default 10ms).
func TestLoadGetJob(t *testing.T) {
	if os.Getenv("SYNTHOS_LOADTEST") == "" {
		t.Skip("set SYNTHOS_LOADTEST=1 to run the load test")
	}
	rps := envInt(t, "SYNTHOS_LOADTEST_RPS", 2000)
	duration := envDuration(t, "SYNTHOS_LOADTEST_DURATION", 10*time.Second)
	target := envDuration(t, "SYNTHOS_LOADTEST_P99", 10*time.Millisecond)

	f := newFixture(t, fixtureOptions{logger: obs.NewLogger(io.Discard, slog.LevelInfo, "loadtest")})
	key := f.key("load", apikeys.Read, apikeys.Write)
	job := f.createJob(key, f.upload(key))
	url := f.srv.URL + "/v1/jobs/" + job
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}}

	n := int(duration.Seconds() * float64(rps))
	interval := time.Second / time.Duration(rps)
	lat := make([]time.Duration, n)
	failed := make([]string, 0)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Go(func() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := client.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode != 200 {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			lat[i] = time.Since(at)
			if err != nil {
				mu.Lock()
				failed = append(failed, err.Error())
				mu.Unlock()
			}
		})
	}
	sent := time.Since(start)
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(failed), n, failed[0])
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	t.Logf("GET /v1/jobs/{id}: %d requests at %d req/s offered (%.0f req/s achieved by the sender) over %s",
		n, rps, float64(n)/sent.Seconds(), duration)
	t.Logf("latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s", q(0.50), q(0.90), q(0.99), q(0.999), lat[len(lat)-1])
	if p99 := q(0.99); p99 > target {
		t.Errorf("p99 %s exceeds the target %s", p99, target)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive integer", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q is not a positive duration", name, v)
	}
	return d
}

// BenchmarkGetJob measures one GET /v1/jobs/{id} through the handler stack
// in process (no network): what a request costs the server.
func BenchmarkGetJob(b *testing.B) {
	f := newFixture(b, fixtureOptions{logger: obs.NewLogger(io.Discard, slog.LevelInfo, "bench")})
	key := f.key("bench", apikeys.Read, apikeys.Write)
	job := f.createJob(key, f.upload(key))
	req, _ := http.NewRequest("GET", "/v1/jobs/"+job, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		f.handler.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(s int) {
	if d.status == 0 {
		d.status = s
	}
}
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	return len(b), nil
}
