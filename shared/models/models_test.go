package models

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state/statetest"
)

func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	return b
}

func TestRegistry(t *testing.T) {
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			bucket := memblob.OpenBucket(nil)
			s := New(st, bucket)
			ds := &datasets.Dataset{ID: "ds_ins_" + name, Tenant: "t1", Key: "k", Status: datasets.Ready, Columns: []datasets.Column{
				{Name: "age", Kind: "numeric"}, {Name: "sex", Kind: "categorical"}, {Name: "bmi", Kind: "numeric"},
				{Name: "children", Kind: "numeric"}, {Name: "smoker", Kind: "boolean"}, {Name: "region", Kind: "categorical"},
				{Name: "charges", Kind: "numeric"}}}
			if err := datasets.New(st).Create(ctx, ds); err != nil {
				t.Fatal(err)
			}
			xgb := fixture(t, "ensemble/testdata/xgb_insurance_regression.json")
			// Version 1 and 2 of the same name, one bound to the dataset.
			m1, err := s.Create(ctx, Upload{ID: "m1_" + name, Tenant: "t1", Name: "charges.json"}, bytes.NewReader(xgb))
			if err != nil {
				t.Fatal(err)
			}
			m2, err := s.Create(ctx, Upload{ID: "m2_" + name, Tenant: "t1", Name: "charges.json", Dataset: ds.ID, Target: "charges"}, bytes.NewReader(xgb))
			if err != nil {
				t.Fatal(err)
			}
			if m1.Status != Ready || m2.Status != Ready || m1.Version != 1 || m2.Version != 2 || !m2.Servable ||
				m2.Framework != "xgboost" || m2.Task != "regression" || len(m2.Inputs) != 6 || m2.Match == nil || !m2.Match.OK() {
				t.Fatalf("m1 %+v\nm2 %+v", m1, m2)
			}
			if ok, _ := bucket.Exists(ctx, "tenants/t1/models/"+m2.ID+"/charges.json"); !ok {
				t.Error("bytes not under the tenant's prefix")
			}
			// A malicious pickle is stored but Rejected with the reason.
			evil := fixture(t, "modelcheck/testdata/malicious/os_system_p4.pkl")
			m3, err := s.Create(ctx, Upload{ID: "m3_" + name, Tenant: "t1", Name: "model.pkl"}, bytes.NewReader(evil))
			if err != nil {
				t.Fatal(err)
			}
			if m3.Status != Rejected || !strings.Contains(m3.Reason, "system") {
				t.Errorf("evil: %s %s", m3.Status, m3.Reason)
			}
			// The adult model against the insurance dataset: rejected, naming columns.
			adult := fixture(t, "ensemble/testdata/xgb_adult_binary.json")
			m4, err := s.Create(ctx, Upload{ID: "m4_" + name, Tenant: "t1", Name: "a.json", Dataset: ds.ID, Target: "charges"}, bytes.NewReader(adult))
			if err != nil {
				t.Fatal(err)
			}
			if m4.Status != Rejected || !strings.Contains(m4.Reason, "missing columns: workclass") {
				t.Errorf("mismatch: %s %s", m4.Status, m4.Reason)
			}
			// A sklearn model is Ready but not servable.
			sk := fixture(t, "modelcheck/testdata/benign/sk_random_forest.joblib")
			m5, err := s.Create(ctx, Upload{ID: "m5_" + name, Tenant: "t1", Name: "rf.joblib"}, bytes.NewReader(sk))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Load(ctx, "t1", m5.ID); m5.Status != Ready || m5.Servable || errs.CodeOf(err) != errs.Unimplemented {
				t.Errorf("sklearn: %s servable=%v load err %v", m5.Status, m5.Servable, err)
			}
			if _, _, err := s.Load(ctx, "t1", m3.ID); errs.CodeOf(err) != errs.FailedPrecondition {
				t.Errorf("rejected load: %v", err)
			}
			// Load and predict; other tenants see nothing.
			_, em, err := s.Load(ctx, "t1", m2.ID)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]float64, 1)
			if err := em.Predict([]float64{40, 0, 30, 1, 0, math.NaN()}, out); err != nil || out[0] <= 0 {
				t.Errorf("predict %v %v", out, err)
			}
			if _, err := s.Get(ctx, "t2", m2.ID); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("cross-tenant get: %v", err)
			}
			list, err := s.List(ctx, "t1", 0)
			if err != nil || len(list) != 5 || list[0].ID != m5.ID {
				t.Fatalf("list %d %v", len(list), err)
			}
			if err := s.Delete(ctx, "t2", m1.ID); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("cross-tenant delete: %v", err)
			}
			if err := s.Delete(ctx, "t1", m1.ID); err != nil {
				t.Fatal(err)
			}
			if ok, _ := bucket.Exists(ctx, m1.Key); ok {
				t.Error("bytes left after delete")
			}
			if _, err := s.Get(ctx, "t1", m1.ID); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("get after delete: %v", err)
			}
			// Limits: an oversized upload is refused before it is recorded.
			s.Limits.MaxBytes = 100
			if _, err := s.Create(ctx, Upload{ID: "m6_" + name, Tenant: "t1", Name: "big.json"}, bytes.NewReader(xgb)); errs.CodeOf(err) != errs.TooLarge {
				t.Errorf("too large: %v", err)
			}
		})
	}
}
