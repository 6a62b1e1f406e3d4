package events

import (
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	const minB, maxB = 10 * time.Millisecond, 200 * time.Millisecond
	b := NewBus(BusOptions{MinBackoff: minB, MaxBackoff: maxB, Seed: 3})
	defer b.Close()
	tests := []struct {
		failed int // attempts failed so far
		lo, hi time.Duration
	}{
		{1, minB, minB},
		{2, minB, 2 * minB},
		{3, 2 * minB, 4 * minB},
		{5, 8 * minB, 16 * minB},
		{6, maxB / 2, maxB},
		{40, maxB / 2, maxB},
		{100, maxB / 2, maxB},
	}
	for _, tt := range tests {
		for range 200 {
			if d := b.backoff(tt.failed); d < tt.lo || d > tt.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tt.failed, d, tt.lo, tt.hi)
			}
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	tests := []struct {
		name     string
		in       BusOptions
		min, max time.Duration
		attempts int
	}{
		{"zero", BusOptions{}, 100 * time.Millisecond, 10 * time.Second, 5},
		{"max below min", BusOptions{MinBackoff: time.Second, MaxBackoff: time.Millisecond, MaxAttempts: 2}, time.Second, time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBus(tt.in)
			defer b.Close()
			if b.opts.MinBackoff != tt.min || b.opts.MaxBackoff != tt.max || b.opts.MaxAttempts != tt.attempts {
				t.Errorf("options %+v, want min %v max %v attempts %d", b.opts, tt.min, tt.max, tt.attempts)
			}
		})
	}
}
