package ipfilter

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/ratelimit/redistest"
	"synthos.dev/synthos/shared/state"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted int
		want    string
	}{
		{"no proxies: peer, XFF ignored", "198.51.100.7:5555", []string{"1.2.3.4"}, 0, "198.51.100.7"},
		{"one proxy: rightmost entry", "10.0.0.1:443", []string{"6.6.6.6, 203.0.113.9"}, 1, "203.0.113.9"},
		{"spoofed left entries are ignored", "10.0.0.1:443", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, 1, "203.0.113.9"},
		{"two proxies: second from right", "10.0.0.1:443", []string{"6.6.6.6, 203.0.113.9, 130.211.0.5"}, 2, "203.0.113.9"},
		{"several header lines count as one list", "10.0.0.1:443", []string{"6.6.6.6", "203.0.113.9, 130.211.0.5"}, 2, "203.0.113.9"},
		{"too few entries: peer", "198.51.100.7:5555", []string{"203.0.113.9"}, 2, "198.51.100.7"},
		{"garbage entry: peer", "198.51.100.7:5555", []string{"not-an-ip"}, 1, "198.51.100.7"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, 0, "2001:db8::1"},
		{"v4-mapped v6 is v4", "[::ffff:203.0.113.9]:443", nil, 0, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, tt.trusted); got.String() != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	allow, err := ParseList([]string{"203.0.113.0/24", "2001:db8::/32", ""})
	if err != nil {
		t.Fatal(err)
	}
	deny, err := ParseList([]string{"203.0.113.66", "198.51.100.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rules Rules
		ip    string
		want  Decision
	}{
		{Rules{}, "8.8.8.8", Admitted},
		{Rules{Allow: allow}, "203.0.113.5", Admitted},
		{Rules{Allow: allow}, "2001:db8::5", Admitted},
		{Rules{Allow: allow}, "8.8.8.8", NotAllowed},
		{Rules{Allow: allow, Deny: deny}, "203.0.113.66", Denied},
		{Rules{Deny: deny}, "198.51.100.200", Denied},
		{Rules{Deny: deny}, "8.8.8.8", Admitted},
	}
	for _, tt := range tests {
		if got := tt.rules.Check(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("%s under %v: %q, want %q", tt.ip, tt.rules, got, tt.want)
		}
	}
	if got := (Rules{Deny: deny}).Check(netip.Addr{}); got != Unknown {
		t.Errorf("invalid address: %q", got)
	}
	for _, bad := range []string{"300.1.1.1", "10.0.0.0/33", "example.com"} {
		if _, err := ParseList([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	l, _ := ParseList([]string{"10.1.2.3/8"})
	if l.Strings()[0] != "10.0.0.0/8" {
		t.Errorf("not masked: %v", l)
	}
}

func testBans(t *testing.T, b Bans, policy BanPolicy) {
	ctx := context.Background()
	a := netip.MustParseAddr("203.0.113.9")
	if _, banned, err := b.Banned(ctx, a); err != nil || banned {
		t.Fatalf("banned before a strike: %v %v", banned, err)
	}
	want := []time.Duration{policy.Base, 2 * policy.Base, 4 * policy.Base, policy.Max, policy.Max}
	for i, w := range want {
		before := time.Now()
		n, until, err := b.Strike(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(i+1) {
			t.Fatalf("strike %d numbered %d", i+1, n)
		}
		if d := until.Sub(before); d < w-50*time.Millisecond || d > w+time.Second {
			t.Fatalf("strike %d bans for %v, want %v", i+1, d, w)
		}
	}
	if _, banned, err := b.Banned(ctx, a); err != nil || !banned {
		t.Fatalf("not banned after strikes: %v", err)
	}
	if _, banned, _ := b.Banned(ctx, netip.MustParseAddr("203.0.113.10")); banned {
		t.Fatal("a neighbour is banned")
	}
	if err := b.Lift(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, banned, _ := b.Banned(ctx, a); banned {
		t.Fatal("banned after Lift")
	}
	if n, _, _ := b.Strike(ctx, a); n != 1 {
		t.Fatalf("strikes not forgotten by Lift: %d", n)
	}
}

var testPolicy = BanPolicy{Base: time.Minute, Max: 6 * time.Minute, Memory: time.Hour}

func TestMemoryBans(t *testing.T) {
	testBans(t, NewMemoryBans(testPolicy, nil), testPolicy)

	// A ban ends by itself; strikes are forgotten after Memory.
	now := time.Unix(1_700_000_000, 0)
	b := NewMemoryBans(testPolicy, func() time.Time { return now })
	a := netip.MustParseAddr("198.51.100.1")
	ctx := context.Background()
	b.Strike(ctx, a)
	now = now.Add(61 * time.Second)
	if _, banned, _ := b.Banned(ctx, a); banned {
		t.Fatal("ban did not expire")
	}
	if n, _, _ := b.Strike(ctx, a); n != 2 {
		t.Fatalf("second strike numbered %d", n)
	}
	now = now.Add(2 * time.Hour)
	if n, _, _ := b.Strike(ctx, a); n != 1 {
		t.Fatalf("strikes not forgotten after Memory: %d", n)
	}
}

func TestRedisBans(t *testing.T) {
	c, prefix := redistest.Client(t)
	testBans(t, NewRedisBans(c, prefix, testPolicy), testPolicy)
	// A second instance sees the first one's ban.
	ctx := context.Background()
	a := netip.MustParseAddr("2001:db8::7")
	if _, _, err := NewRedisBans(c, prefix, testPolicy).Strike(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, banned, err := NewRedisBans(c, prefix, testPolicy).Banned(ctx, a); err != nil || !banned {
		t.Fatalf("ban not shared: %v", err)
	}
}

func TestTenantStore(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := NewTenantStore(st, time.Hour)
	if r, err := s.Rules(ctx, "t1"); err != nil || len(r.Allow)+len(r.Deny) != 0 {
		t.Fatalf("empty tenant: %v %v", r, err)
	}
	got, err := s.Put(ctx, "t1", TenantRules{Allow: []string{"203.0.113.7/24"}, Deny: []string{"203.0.113.66"}, UpdatedBy: "key:k1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Allow[0] != "203.0.113.0/24" || got.Deny[0] != "203.0.113.66/32" {
		t.Fatalf("canonical forms: %+v", got)
	}
	// Put through this instance invalidates the cache at once.
	r, err := s.Rules(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Check(netip.MustParseAddr("8.8.8.8")) != NotAllowed || r.Check(netip.MustParseAddr("203.0.113.66")) != Denied {
		t.Fatalf("rules not enforced: %+v", r)
	}
	// Another tenant is unaffected.
	if r, _ := s.Rules(ctx, "t2"); r.Check(netip.MustParseAddr("8.8.8.8")) != Admitted {
		t.Fatal("rules leaked across tenants")
	}
	_, err = s.Put(ctx, "t1", TenantRules{Allow: []string{"nope"}})
	if errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("bad CIDR: %v", err)
	}
	many := make([]string, MaxTenantPrefixes+1)
	for i := range many {
		many[i] = "10.0.0.1"
	}
	if _, err := s.Put(ctx, "t1", TenantRules{Deny: many}); errs.CodeOf(err) != errs.InvalidArgument {
		t.Fatalf("too many prefixes: %v", err)
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:443", "1.2.3.4, 5.6.7.8", 1)
	f.Add("[::1]:1", ",,,", 3)
	f.Fuzz(func(t *testing.T, remote, xff string, n int) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		_ = ClientIP(r, n%8)
	})
}
