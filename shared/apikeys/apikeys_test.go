package apikeys

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/state"
)

func newKeys(t *testing.T) *Keys {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := New(st, []byte(strings.Repeat("p", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCreateVerifyRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKeys(t)
	key, rec, err := k.Create(ctx, CreateOptions{Tenant: "acme", Name: "ci", Scopes: []Scope{Read, Write}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "sk_live_") || len(key) != len("sk_live_")+bodyLen || !LooksLikeKey(key) {
		t.Fatalf("key %q has the wrong shape", key)
	}
	if strings.Contains(rec.Hash, key) || rec.Hash == "" || strings.Contains(rec.Display, key[16:]) {
		t.Fatalf("record leaks the key: %+v", rec)
	}
	p, err := k.Verify(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != "acme" || !p.Has(Read) || !p.Has(Write) || p.Has(Admin) || !p.Live {
		t.Errorf("principal = %+v", p)
	}

	// Another tenant cannot revoke it.
	if err := k.Revoke(ctx, "other", rec.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("cross-tenant revoke: %v", err)
	}
	if err := k.Revoke(ctx, "acme", rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, key); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("revoked key verified: %v", err)
	}
	list, err := k.List(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Errorf("list = %+v, %v", list, err)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKeys(t)
	key, _, err := k.Create(ctx, CreateOptions{Tenant: "acme", Scopes: []Scope{Read}, Test: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(ctx, key); err != nil {
		t.Fatalf("valid test key: %v", err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	// A key with a valid checksum whose secret differs: passes the offline
	// check, fails the HMAC.
	forged := key[:len(key)-crcLen-1] + "Z"
	if forged == key[:len(key)-crcLen] {
		forged = key[:len(key)-crcLen-1] + "Y"
	}
	forged += checksum(forged)
	tests := []struct{ name, key string }{
		{"empty", ""},
		{"no prefix", key[8:]},
		{"wrong mode", "sk_live_" + key[8:]},
		{"bad checksum", flip(key, len(key)-1)},
		{"typo in secret", flip(key, 20)},
		{"forged secret with valid checksum", forged},
		{"unknown id", "sk_test_" + "ZZZZZZZZ" + key[16:len(key)-crcLen]},
		{"too long", key + "a"},
		{"non-base62", key[:20] + "-" + key[21:]},
	}
	for _, tc := range tests {
		if tc.name == "unknown id" {
			tc.key += checksum(tc.key)
		}
		if _, err := k.Verify(ctx, tc.key); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", tc.name, err)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	if s, err := ParseScopes("read, write,read"); err != nil || len(s) != 2 {
		t.Errorf("%v %v", s, err)
	}
	for _, bad := range []string{"", "root", "read,sudo"} {
		if _, err := ParseScopes(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestNewNeedsStrongPepper(t *testing.T) {
	t.Parallel()
	if _, err := New(nil, []byte("short")); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	k, _ := New(st, []byte(strings.Repeat("p", 32)))
	key, _, err := k.Create(ctx, CreateOptions{Tenant: "acme", Scopes: []Scope{Read}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
