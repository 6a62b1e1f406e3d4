// Package statetest is the conformance suite every state driver passes, so that code tested against the
// embedded driver behaves the same on Firestore.
package statetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/state"
)

// Run runs the suite. open returns a fresh or shared store for one test; Run closes each store it gets.
// Every test uses collections of its own, so one Firestore emulator can serve concurrent runs.
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s state.Store, coll string)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"CreateExists", testCreateExists},
		{"Invalid", testInvalid},
		{"Query", testQuery},
		{"TxCommit", testTxCommit},
		{"TxRollback", testTxRollback},
		{"TxReadAfterWrite", testTxReadAfterWrite},
		{"TxCreateExists", testTxCreateExists},
		{"Counter", testCounter},
		{"CreateRace", testCreateRace},
		{"Canceled", testCanceled},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tt.fn(t, s, Collection(t))
		})
	}
}

// Collection returns a collection name unique to this test and run.
func Collection(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random collection suffix: %v", err)
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, t.Name())
	return name + "-" + hex.EncodeToString(b)
}

// record is a document exercising every JSON shape the drivers store.
type record struct {
	Name   string            `json:"name"`
	Count  int64             `json:"count"`
	Big    int64             `json:"big"`
	Ratio  float64           `json:"ratio"`
	Active bool              `json:"active"`
	Tags   []string          `json:"tags"`
	Attrs  map[string]string `json:"attrs"`
	Inner  *inner            `json:"inner"`
	Empty  *inner            `json:"empty"`
}

type inner struct {
	Level int      `json:"level"`
	Items []string `json:"items,omitempty"`
}

func sample(name string) record {
	return record{
		Name:   name,
		Count:  -7,
		Big:    1<<53 + 1, // not representable as float64: must survive as an integer
		Ratio:  0.25,
		Active: true,
		Tags:   []string{"a", "b"},
		Attrs:  map[string]string{"k": "v", "x.y": "dotted key"},
		Inner:  &inner{Level: 3, Items: []string{"i"}},
	}
}

func testRoundTrip(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	want := sample("first")
	if err := s.Create(ctx, coll, "doc", want); err != nil {
		t.Fatalf("Create: %v", err)
	}
	var got record
	if err := s.Get(ctx, coll, "doc", &got); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Create = %+v, want %+v", got, want)
	}

	// Set replaces the document whole: fields absent from the new value are gone.
	if err := s.Set(ctx, coll, "doc", map[string]any{"name": "second", "count": 2}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	var m map[string]any
	if err := s.Get(ctx, coll, "doc", &m); err != nil {
		t.Fatalf("Get after Set: %v", err)
	}
	if want := map[string]any{"name": "second", "count": float64(2)}; !reflect.DeepEqual(m, want) {
		t.Fatalf("Get after Set = %v, want %v", m, want)
	}

	// Set creates a missing document too.
	if err := s.Set(ctx, coll, "other", want); err != nil {
		t.Fatalf("Set new: %v", err)
	}
	got = record{}
	if err := s.Get(ctx, coll, "other", &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Set new = %+v, %v; want %+v", got, err, want)
	}

	if err := s.Delete(ctx, coll, "doc"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Get(ctx, coll, "doc", &got); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, coll, "doc"); err != nil {
		t.Fatalf("Delete of a missing document: %v", err)
	}
	if err := s.Delete(ctx, coll+"-none", "doc"); err != nil {
		t.Fatalf("Delete in a missing collection: %v", err)
	}
}

func testNotFound(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	var got record
	if err := s.Get(ctx, coll, "missing", &got); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get in a missing collection: err = %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, coll, "present", sample("p")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Get(ctx, coll, "missing", &got); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get of a missing document: err = %v, want ErrNotFound", err)
	}
}

func testCreateExists(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	if err := s.Create(ctx, coll, "doc", sample("first")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Create(ctx, coll, "doc", sample("second")); !errors.Is(err, state.ErrAlreadyExists) {
		t.Fatalf("second Create: err = %v, want ErrAlreadyExists", err)
	}
	var got record
	if err := s.Get(ctx, coll, "doc", &got); err != nil || got.Name != "first" {
		t.Fatalf("Get = %q, %v; want the first value kept", got.Name, err)
	}
}

func testInvalid(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	ok := sample("ok")
	tests := []struct {
		name string
		call func() error
	}{
		{"empty id", func() error { return s.Set(ctx, coll, "", ok) }},
		{"slash in id", func() error { return s.Set(ctx, coll, "a/b", ok) }},
		{"dot id", func() error { return s.Create(ctx, coll, "..", ok) }},
		{"reserved id", func() error { return s.Set(ctx, coll, "__x__", ok) }},
		{"slash in collection", func() error { return s.Set(ctx, coll+"/x", "id", ok) }},
		{"empty collection get", func() error { return s.Get(ctx, "", "id", &record{}) }},
		{"not an object", func() error { return s.Set(ctx, coll, "id", 5) }},
		{"nil value", func() error { return s.Set(ctx, coll, "id", nil) }},
		{"nested array", func() error { return s.Set(ctx, coll, "id", map[string]any{"a": [][]int{{1}}}) }},
		{"huge integer", func() error { return s.Set(ctx, coll, "id", map[string]uint64{"a": 1 << 63}) }},
		{"unencodable", func() error { return s.Set(ctx, coll, "id", map[string]any{"c": make(chan int)}) }},
		{"float equality", func() error {
			_, err := s.Query(ctx, coll, state.Query{Where: []state.Eq{{Field: "ratio", Value: 0.25}}})
			return err
		}},
		{"bad field path", func() error {
			_, err := s.Query(ctx, coll, state.Query{OrderBy: "a..b"})
			return err
		}},
		{"desc without order", func() error {
			_, err := s.Query(ctx, coll, state.Query{Desc: true})
			return err
		}},
		{"negative limit", func() error {
			_, err := s.Query(ctx, coll, state.Query{Limit: -1})
			return err
		}},
		{"tx bad id", func() error {
			return s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
				return tx.Set(coll, "a/b", ok)
			})
		}},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, state.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	var got record
	if err := s.Get(ctx, coll, "id", &got); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("after rejected writes Get: err = %v, want ErrNotFound", err)
	}
}

// status is a named string type, as callers use for enums.
type status string

type row struct {
	Tenant string `json:"tenant"`
	Status status `json:"status"`
	N      *int   `json:"n,omitempty"`
	Active bool   `json:"active"`
	Meta   struct {
		Tier int `json:"tier"`
	} `json:"meta"`
}

func testQuery(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	n := func(i int) *int { return &i }
	rows := map[string]row{
		"a1": {Tenant: "a", Status: "done", N: n(3), Active: true},
		"a2": {Tenant: "a", Status: "done", N: n(1), Active: false},
		"a3": {Tenant: "a", Status: "open", N: n(2), Active: true},
		"a4": {Tenant: "a", Status: "open", N: n(2), Active: true},
		"a5": {Tenant: "a", Status: "open"}, // no n: left out when ordering by n
		"b1": {Tenant: "b", Status: "done", N: n(5), Active: true},
	}
	for id, r := range rows {
		if id == "a3" {
			r.Meta.Tier = 2
		}
		if err := s.Set(ctx, coll, id, r); err != nil {
			t.Fatalf("Set %s: %v", id, err)
		}
	}
	tenantA := state.Eq{Field: "tenant", Value: "a"}
	tests := []struct {
		name string
		q    state.Query
		want []string
	}{
		{"all in id order", state.Query{}, []string{"a1", "a2", "a3", "a4", "a5", "b1"}},
		{"limit", state.Query{Limit: 2}, []string{"a1", "a2"}},
		{"string equality", state.Query{Where: []state.Eq{tenantA}}, []string{"a1", "a2", "a3", "a4", "a5"}},
		{"named type", state.Query{Where: []state.Eq{{Field: "status", Value: status("open")}}}, []string{"a3", "a4", "a5"}},
		{"bool equality", state.Query{Where: []state.Eq{{Field: "active", Value: false}}}, []string{"a2", "a5"}},
		{"int equality", state.Query{Where: []state.Eq{{Field: "n", Value: 2}}}, []string{"a3", "a4"}},
		{"int kind equality", state.Query{Where: []state.Eq{{Field: "n", Value: uint8(5)}}}, []string{"b1"}},
		{"nested field", state.Query{Where: []state.Eq{{Field: "meta.tier", Value: int64(2)}}}, []string{"a3"}},
		{"two filters", state.Query{Where: []state.Eq{tenantA, {Field: "active", Value: true}}}, []string{"a1", "a3", "a4"}},
		{"no match", state.Query{Where: []state.Eq{{Field: "tenant", Value: "zz"}}}, nil},
		{"type mismatch", state.Query{Where: []state.Eq{{Field: "n", Value: "2"}}}, nil},
		{"missing field", state.Query{Where: []state.Eq{{Field: "nope", Value: 1}}}, nil},
		{"order asc", state.Query{Where: []state.Eq{tenantA}, OrderBy: "n"}, []string{"a2", "a3", "a4", "a1"}},
		{"order desc", state.Query{Where: []state.Eq{tenantA}, OrderBy: "n", Desc: true}, []string{"a1", "a4", "a3", "a2"}},
		{"order asc limit", state.Query{Where: []state.Eq{tenantA}, OrderBy: "n", Limit: 2}, []string{"a2", "a3"}},
		{"order desc limit", state.Query{Where: []state.Eq{tenantA}, OrderBy: "n", Desc: true, Limit: 2}, []string{"a1", "a4"}},
		{"order string", state.Query{OrderBy: "status", Limit: 3}, []string{"a1", "a2", "b1"}},
		{"empty collection", state.Query{Where: []state.Eq{tenantA}}, nil},
	}
	for _, tt := range tests {
		c := coll
		if tt.name == "empty collection" {
			c = coll + "-none"
		}
		docs, err := s.Query(ctx, c, tt.q)
		if err != nil {
			t.Errorf("%s: Query: %v", tt.name, err)
			continue
		}
		var ids []string
		for _, d := range docs {
			ids = append(ids, d.ID)
			var got row
			if err := d.DataTo(&got); err != nil {
				t.Errorf("%s: DataTo %s: %v", tt.name, d.ID, err)
			}
			want := rows[d.ID]
			if d.ID == "a3" {
				want.Meta.Tier = 2
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s decoded %+v, want %+v", tt.name, d.ID, got, want)
			}
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("%s: ids = %v, want %v", tt.name, ids, tt.want)
		}
	}
}

type counter struct {
	N int64 `json:"n"`
}

func testTxCommit(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	if err := s.Set(ctx, coll, "c", counter{N: 41}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Set(ctx, coll, "gone", counter{N: 1}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	err := s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var c counter
		if err := tx.Get(coll, "c", &c); err != nil {
			return err
		}
		var missing counter
		if err := tx.Get(coll, "missing", &missing); !errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("tx.Get of a missing document: err = %v, want ErrNotFound", err)
		}
		if err := tx.Set(coll, "c", counter{N: c.N + 1}); err != nil {
			return err
		}
		if err := tx.Create(coll, "new", counter{N: 7}); err != nil {
			return err
		}
		return tx.Delete(coll, "gone")
	})
	if err != nil {
		t.Fatalf("RunTransaction: %v", err)
	}
	for id, want := range map[string]int64{"c": 42, "new": 7} {
		var c counter
		if err := s.Get(ctx, coll, id, &c); err != nil || c.N != want {
			t.Errorf("Get %s = %d, %v; want %d", id, c.N, err, want)
		}
	}
	if err := s.Get(ctx, coll, "gone", &counter{}); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get of deleted: err = %v, want ErrNotFound", err)
	}
}

func testTxRollback(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	if err := s.Set(ctx, coll, "c", counter{N: 1}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Set(ctx, coll, "keep", counter{N: 9}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	boom := errors.New("boom")
	err := s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var c counter
		if err := tx.Get(coll, "c", &c); err != nil {
			return err
		}
		if err := tx.Set(coll, "c", counter{N: c.N + 100}); err != nil {
			return err
		}
		if err := tx.Create(coll, "new", counter{N: 1}); err != nil {
			return err
		}
		if err := tx.Delete(coll, "keep"); err != nil {
			return err
		}
		return fmt.Errorf("give up: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("RunTransaction: err = %v, want the error fn returned", err)
	}
	var c counter
	if err := s.Get(ctx, coll, "c", &c); err != nil || c.N != 1 {
		t.Errorf("Get c = %d, %v; want 1 (rolled back)", c.N, err)
	}
	if err := s.Get(ctx, coll, "new", &c); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get new: err = %v, want ErrNotFound (rolled back)", err)
	}
	if err := s.Get(ctx, coll, "keep", &c); err != nil || c.N != 9 {
		t.Errorf("Get keep = %d, %v; want 9 (delete rolled back)", c.N, err)
	}
}

func testTxReadAfterWrite(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	var readErr error
	err := s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		if err := tx.Set(coll, "a", counter{N: 1}); err != nil {
			return err
		}
		readErr = tx.Get(coll, "b", &counter{})
		return readErr
	})
	if !errors.Is(readErr, state.ErrInvalid) || !strings.Contains(readErr.Error(), "read after write") {
		t.Errorf("tx.Get after tx.Set: err = %v, want ErrInvalid naming read after write", readErr)
	}
	if !errors.Is(err, state.ErrInvalid) {
		t.Errorf("RunTransaction: err = %v, want ErrInvalid", err)
	}
	if err := s.Get(ctx, coll, "a", &counter{}); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get a: err = %v, want ErrNotFound (rolled back)", err)
	}
}

func testTxCreateExists(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	if err := s.Set(ctx, coll, "x", counter{N: 1}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	tests := []struct {
		name      string
		readFirst bool // read the document in the transaction first
	}{
		{"blind", false},
		{"after read", true},
	}
	for _, tt := range tests {
		err := s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
			if tt.readFirst {
				if err := tx.Get(coll, "x", &counter{}); err != nil {
					return err
				}
			}
			if err := tx.Set(coll, "side", counter{N: 5}); err != nil {
				return err
			}
			_ = tx.Create(coll, "x", counter{N: 2}) // ignored on purpose: the commit must still fail
			return nil
		})
		if !errors.Is(err, state.ErrAlreadyExists) {
			t.Errorf("%s: RunTransaction: err = %v, want ErrAlreadyExists", tt.name, err)
		}
		var c counter
		if err := s.Get(ctx, coll, "x", &c); err != nil || c.N != 1 {
			t.Errorf("%s: Get x = %d, %v; want 1", tt.name, c.N, err)
		}
		if err := s.Get(ctx, coll, "side", &c); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("%s: Get side: err = %v, want ErrNotFound (rolled back)", tt.name, err)
		}
	}
}

// Contention sizes for the hot-counter and create-race tests.
const (
	workers    = 50
	increments = 1
	racers     = 20
)

func testCounter(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	if err := s.Create(ctx, coll, "hot", counter{}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*increments)
	for range workers {
		wg.Go(func() {
			for range increments {
				errs <- s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
					var c counter
					if err := tx.Get(coll, "hot", &c); err != nil {
						return err
					}
					c.N++
					return tx.Set(coll, "hot", c)
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("increment: %v", err)
		}
	}
	var c counter
	if err := s.Get(ctx, coll, "hot", &c); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if c.N != workers*increments {
		t.Fatalf("counter = %d, want %d: updates were lost", c.N, workers*increments)
	}
}

func testCreateRace(t *testing.T, s state.Store, coll string) {
	ctx := t.Context()
	start := make(chan struct{})
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = s.Create(ctx, coll, "once", counter{N: int64(i)})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both created the document", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, state.ErrAlreadyExists):
			t.Errorf("racer %d: err = %v, want nil or ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer created the document")
	}
	var c counter
	if err := s.Get(ctx, coll, "once", &c); err != nil || c.N != int64(winner) {
		t.Fatalf("Get = %d, %v; want the winner's value %d", c.N, err, winner)
	}
}

func testCanceled(t *testing.T, s state.Store, coll string) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { return s.Get(ctx, coll, "id", &counter{}) }},
		{"Create", func() error { return s.Create(ctx, coll, "id", counter{}) }},
		{"Set", func() error { return s.Set(ctx, coll, "id", counter{}) }},
		{"Delete", func() error { return s.Delete(ctx, coll, "id") }},
		{"Query", func() error { _, err := s.Query(ctx, coll, state.Query{}); return err }},
		{"RunTransaction", func() error {
			return s.RunTransaction(ctx, func(context.Context, state.Tx) error { ran = true; return nil })
		}},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", c.name, err)
		}
	}
	if ran {
		t.Error("RunTransaction ran fn with a canceled context")
	}
	if err := s.Get(t.Context(), coll, "id", &counter{}); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get: err = %v, want ErrNotFound (nothing written)", err)
	}
}

func testPing(t *testing.T, s state.Store, _ string) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
