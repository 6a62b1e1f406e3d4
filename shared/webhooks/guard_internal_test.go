package webhooks

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip            string
		allowLoopback bool
		allowed       bool
	}{
		{"8.8.8.8", false, true},
		{"1.1.1.1", false, true},
		{"2606:4700:4700::1111", false, true},
		{"10.1.2.3", false, false},
		{"172.16.0.1", false, false},
		{"172.31.255.255", false, false},
		{"172.32.0.1", false, true},
		{"192.168.1.1", false, false},
		{"100.64.0.1", false, false},
		{"100.127.255.254", false, false},
		{"127.0.0.1", false, false},
		{"127.1.2.3", false, false},
		{"169.254.169.254", false, false}, // metadata server
		{"169.254.0.1", false, false},
		{"0.0.0.0", false, false},
		{"224.0.0.1", false, false},
		{"255.255.255.255", false, false},
		{"::", false, false},
		{"::1", false, false},
		{"fe80::1", false, false},
		{"fc00::1", false, false},
		{"fd12:3456::1", false, false},
		{"ff02::1", false, false},
		{"::ffff:127.0.0.1", false, false},       // IPv4-mapped loopback
		{"::ffff:169.254.169.254", false, false}, // IPv4-mapped metadata
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:8.8.8.8", false, true},
		{"::127.0.0.1", false, false},        // IPv4-compatible
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", false, true},    // NAT64 of 8.8.8.8
		{"2002:c0a8:0101::1", false, false},  // 6to4 of 192.168.1.1
		{"2002:0808:0808::1", false, true},   // 6to4 of 8.8.8.8
		{"127.0.0.1", true, true},
		{"::1", true, true},
		{"::ffff:127.0.0.1", true, true},
		{"10.0.0.1", true, false}, // the test option re-opens loopback only
		{"169.254.169.254", true, false},
		{"0.0.0.0", true, false},
	}
	for _, tt := range tests {
		err := checkAddr(netip.MustParseAddr(tt.ip), tt.allowLoopback)
		if (err == nil) != tt.allowed {
			t.Errorf("checkAddr(%s, loopback=%v) = %v, want allowed=%v", tt.ip, tt.allowLoopback, err, tt.allowed)
		}
		if err != nil && !errors.Is(err, ErrForbidden) {
			t.Errorf("checkAddr(%s) = %v, not ErrForbidden", tt.ip, err)
		}
	}
}

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		types []string
		event string
		want  bool
	}{
		{nil, "job.succeeded", true},
		{[]string{"*"}, "job.failed", true},
		{[]string{"job.succeeded"}, "job.succeeded", true},
		{[]string{"job.succeeded"}, "job.failed", false},
		{[]string{"job.*"}, "job.failed", true},
		{[]string{"job.*"}, "jobs.failed", false},
		{[]string{"billing.*", "job.failed"}, "job.failed", true},
	}
	for _, tt := range tests {
		if got := matches(tt.types, tt.event); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.types, tt.event, got, tt.want)
		}
	}
}
