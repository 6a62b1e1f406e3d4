// Package redistest connects tests to the Redis at 127.0.0.1:6379 (or
// SYNTHOS_TEST_REDIS_URL). Without one the test skips, naming the service,
// except under CI=true, where .ci/run starts redis-server and a missing
// Redis is a failure.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client returns a client and a random key prefix unique to this test; the
// prefix's keys are deleted when the test ends (the Redis is shared).
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("SYNTHOS_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("SYNTHOS_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is required in CI (.ci/run starts redis-server): %v", url, err)
		}
		t.Skipf("needs Redis at %s (start redis-server, or set SYNTHOS_TEST_REDIS_URL): %v", url, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "synthos-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
