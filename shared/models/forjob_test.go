package models

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/state/statetest"
)

// TestForJob: a job may pin a ready, in-process model whose features are
// columns of the dataset of the right kind, naming a version of the
// model's name; every other case is refused with a code and a message
// naming what to fix.
func TestForJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := New(statetest.Bolt(t), memblob.OpenBucket(nil))
	ds := &datasets.Dataset{ID: "ds_ins", Tenant: "t1", Status: datasets.Ready, Columns: []datasets.Column{
		{Name: "age", Kind: "numeric"}, {Name: "sex", Kind: "categorical"}, {Name: "bmi", Kind: "numeric"},
		{Name: "children", Kind: "numeric"}, {Name: "smoker", Kind: "boolean"}, {Name: "region", Kind: "categorical"},
		{Name: "charges", Kind: "numeric"}}}
	create := func(id, name, target, path string) {
		t.Helper()
		if _, err := store.Create(ctx, Upload{ID: id, Tenant: "t1", Name: name, Target: target}, bytes.NewReader(fixture(t, path))); err != nil {
			t.Fatal(err)
		}
	}
	create("v1", "charges.json", "charges", "ensemble/testdata/xgb_insurance_regression.json")
	create("v2", "charges.json", "charges", "ensemble/testdata/xgb_insurance_regression.ubj")
	create("adult", "income.json", "", "ensemble/testdata/xgb_adult_binary.json")
	create("rf", "rf.joblib", "charges", "modelcheck/testdata/benign/sk_random_forest.joblib")
	create("evil", "evil.pkl", "", "modelcheck/testdata/malicious/os_system_p4.pkl")
	cats := map[string][]string{"sex": {"female", "male"}, "smoker": {"no", "yes"}, "region": {"ne", "nw", "se", "sw"}}
	tests := []struct {
		name    string
		pin     Pin
		wantID  string
		code    errs.Code
		message string
	}{
		{"latest by id", Pin{ID: "v2", Categories: cats}, "v2", 0, ""},
		{"an older version by number", Pin{ID: "v2", Version: 1, Categories: cats}, "v1", 0, ""},
		{"no such version", Pin{ID: "v2", Version: 7, Categories: cats}, "", errs.NotFound, "no version 7"},
		{"no such model", Pin{ID: "nope"}, "", errs.NotFound, "does not exist"},
		{"rejected", Pin{ID: "evil", Target: "charges"}, "", errs.FailedPrecondition, "rejected"},
		{"not served in process", Pin{ID: "rf"}, "", errs.FailedPrecondition, "in process"},
		{"categories missing", Pin{ID: "v1"}, "", errs.InvalidArgument, "sex, smoker, region as category codes"},
		{"target not a column", Pin{ID: "adult", Target: "income"}, "", errs.InvalidArgument, `"income", which is not a column`},
		{"no target at all", Pin{ID: "adult"}, "", errs.InvalidArgument, "names no target"},
		{"columns missing", Pin{ID: "adult", Target: "charges"}, "", errs.InvalidArgument, "missing columns: workclass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := store.ForJob(ctx, "t1", tt.pin, ds)
			if tt.code == 0 {
				if err != nil || m.ID != tt.wantID {
					t.Fatalf("got %v, %v; want %s", m, err, tt.wantID)
				}
				return
			}
			if errs.CodeOf(err) != tt.code || !strings.Contains(errs.Message(err), tt.message) {
				t.Errorf("err %v (%s), want %s with %q", err, errs.CodeOf(err), tt.code, tt.message)
			}
		})
	}
	if _, err := store.ForJob(ctx, "t2", Pin{ID: "v1", Categories: cats}, ds); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("another tenant's model: %v", err)
	}
}

// TestEncryptedAtRest: with the tenant's encryption on, a model is stored
// encrypted (Create and the resumable path's Finish read it back through
// the keyring), loads and predicts; a model stored before encryption was
// turned on stays readable; without the keyring the encrypted bytes are
// refused, never parsed.
func TestEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	state := statetest.Bolt(t)
	path := filepath.Join(t.TempDir(), "master.json")
	if _, err := keyring.CreateMasterKeyset(path); err != nil {
		t.Fatal(err)
	}
	kek, err := keyring.OpenKEK(ctx, "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New(state, kek)
	if err != nil {
		t.Fatal(err)
	}
	bucket := memblob.OpenBucket(nil)
	store := New(state, bucket)
	store.Keys = func(context.Context) (*keyring.Keyring, error) { return ring, nil }
	xgb := fixture(t, "ensemble/testdata/xgb_insurance_regression.json")
	plain, err := store.Create(ctx, Upload{ID: "plain", Tenant: "t1", Name: "m.json"}, bytes.NewReader(xgb))
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.SetEncryptData(ctx, "t1", true); err != nil {
		t.Fatal(err)
	}
	enc, err := store.Create(ctx, Upload{ID: "enc", Tenant: "t1", Name: "m.json"}, bytes.NewReader(xgb))
	if err != nil || enc.Status != Ready {
		t.Fatalf("encrypted create: %+v %v", enc, err)
	}
	for _, c := range []struct {
		m         *Model
		encrypted bool
	}{{plain, false}, {enc, true}} {
		b, err := bucket.ReadAll(ctx, c.m.Key)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, []byte(keyring.Magic)) != c.encrypted || bytes.Contains(b, []byte("learner")) == c.encrypted {
			t.Errorf("%s: stored encrypted = %v, want %v", c.m.ID, !c.encrypted, c.encrypted)
		}
		if _, em, err := store.Load(ctx, "t1", c.m.ID); err != nil || len(em.Features) != 6 {
			t.Errorf("%s: load: %v", c.m.ID, err)
		}
	}
	// Finish (the resumable path) reads the encrypted bytes back to
	// validate them.
	pending, err := store.Begin(ctx, Upload{ID: "sess", Tenant: "t1", Name: "m.json"}, int64(len(xgb)))
	if err != nil || pending.Status != Pending {
		t.Fatalf("begin: %+v %v", pending, err)
	}
	if _, err := store.store(ctx, pending, bytes.NewReader(xgb)); err != nil {
		t.Fatal(err)
	}
	done, err := store.Finish(ctx, "t1", "sess")
	if err != nil || done.Status != Ready || done.Size != int64(len(xgb)) || done.Version != 3 {
		t.Fatalf("finish: %+v %v", done, err)
	}
	bare := New(state, bucket)
	if _, _, err := bare.Load(ctx, "t1", enc.ID); err == nil || !strings.Contains(err.Error(), "no keyring") {
		t.Errorf("load without the keyring: %v", err)
	}
}

// TestUpdate: Update changes a record in one transaction and never
// another tenant's, on every state driver (tenants of its own: the
// Firestore emulator is shared by the package's tests).
func TestUpdate(t *testing.T) {
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := New(open(t), memblob.OpenBucket(nil))
			id := "upd_" + name
			if _, err := s.Begin(ctx, Upload{ID: id, Tenant: "t_upd", Name: "m.json"}, 100); err != nil {
				t.Fatal(err)
			}
			m, err := s.Update(ctx, "t_upd", id, func(m *Model) { m.Received = 42 })
			if err != nil || m.Received != 42 || m.Total != 100 || m.Status != Pending {
				t.Fatalf("update: %+v %v", m, err)
			}
			if got, err := s.Get(ctx, "t_upd", id); err != nil || got.Received != 42 {
				t.Errorf("stored %+v %v", got, err)
			}
			if _, err := s.Update(ctx, "t_upd2", id, func(m *Model) { m.Received = 7 }); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("another tenant's update: %v", err)
			}
			if _, err := s.Update(ctx, "t_upd", "nope_"+name, func(*Model) {}); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("update of a missing model: %v", err)
			}
		})
	}
}
