package destinations_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/state/statetest"
)

func TestParseZoneBuckets(t *testing.T) {
	tests := []struct {
		spec  string
		zones []string // want, in order
		err   string   // substring; "" for valid
	}{
		{"", nil, ""},
		{"europe-west1=gs://p-data-eu", []string{"eu"}, ""},
		{"europe-west1=gs://p-data-eu, us-central1=gs://p-data-us,europe-west2=gs://p-uk", []string{"eu", "us", "uk"}, ""},
		{"eu-central-1=s3://p-data-eu", []string{"eu"}, ""},
		{"gs://p-data-eu", nil, "is not REGION=URL"},
		{"europe-west1=file:///tmp/eu", nil, "must be a cloud bucket"},
		{"europe-west1=gs://a,europe-west4=gs://b", nil, "both in zone eu"},
		{"mars-north1=gs://a", nil, "not a known gs region"},
		{"europe-west1=gs://", nil, "not a bucket URL"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := destinations.ParseZoneBuckets(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var zones []string
			for _, z := range got {
				zones = append(zones, z.Zone)
			}
			if strings.Join(zones, ",") != strings.Join(tt.zones, ",") {
				t.Fatalf("zones = %v, want %v", zones, tt.zones)
			}
		})
	}
}

// zoneFixture is a deployment in us-central1 with a second bucket for eu;
// tenant "eu-co" has an eu residency policy, "us-co" none.
type zoneFixture struct {
	own, eu *blob.Bucket
	pb      *destinations.PlatformBuckets
	routed  *blob.Bucket
}

func newZoneFixture(t *testing.T) *zoneFixture {
	t.Helper()
	ctx := context.Background()
	st := statetest.Bolt(t)
	s := newStore(t, st)
	if err := s.SetPolicy(ctx, "eu-co", "", destinations.Policy{Residency: "eu"}); err != nil {
		t.Fatal(err)
	}
	f := &zoneFixture{own: memblob.OpenBucket(nil), eu: memblob.OpenBucket(nil)}
	f.pb = destinations.NewPlatformBuckets(
		destinations.ZoneBucket{Zone: "us", Bucket: f.own, Place: destinations.Placement{Name: "own", Provider: "gs", Region: "us-central1"}},
		[]destinations.ZoneBucket{{Zone: "eu", Bucket: f.eu, Place: destinations.Placement{Name: "eu bucket", Provider: "gs", Region: "europe-west1"}}},
		func(ctx context.Context, tenant string) (string, error) {
			return destinations.TenantResidency(ctx, st, tenant)
		})
	f.routed = f.pb.Bucket()
	t.Cleanup(func() { _ = f.routed.Close() })
	return f
}

func exists(t *testing.T, b *blob.Bucket, key string) bool {
	t.Helper()
	ok, err := b.Exists(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestPlatformBucketsRouteTenantsToTheirZone(t *testing.T) {
	ctx := context.Background()
	f := newZoneFixture(t)
	for _, key := range []string{"tenants/eu-co/datasets/a.csv", "tenants/us-co/datasets/a.csv", "healthz/probe"} {
		if err := f.routed.WriteAll(ctx, key, []byte("data of "+key), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Where each object physically is.
	for _, c := range []struct {
		key     string
		own, eu bool
	}{
		{"tenants/eu-co/datasets/a.csv", false, true},
		{"tenants/us-co/datasets/a.csv", true, false},
		{"healthz/probe", true, false},
	} {
		if got := exists(t, f.own, c.key); got != c.own {
			t.Errorf("%s in the deployment's bucket = %v, want %v", c.key, got, c.own)
		}
		if got := exists(t, f.eu, c.key); got != c.eu {
			t.Errorf("%s in the eu bucket = %v, want %v", c.key, got, c.eu)
		}
		got, err := f.routed.ReadAll(ctx, c.key)
		if err != nil || string(got) != "data of "+c.key {
			t.Errorf("read %s = %q, %v", c.key, got, err)
		}
	}

	// A tenant-scoped listing reads the tenant's bucket; a platform-wide
	// one merges every bucket.
	keys := listKeys(t, f.routed, &blob.ListOptions{Prefix: "tenants/eu-co/"})
	if strings.Join(keys, " ") != "tenants/eu-co/datasets/a.csv" {
		t.Errorf("tenant listing = %v", keys)
	}
	keys = listKeys(t, f.routed, &blob.ListOptions{Prefix: "tenants/", Delimiter: "/"})
	if strings.Join(keys, " ") != "tenants/eu-co/ tenants/us-co/" {
		t.Errorf("merged listing = %v", keys)
	}

	// Copies inside a zone stay there; a copy across zones streams.
	if err := f.routed.Copy(ctx, "tenants/eu-co/jobs/j1/train.csv", "tenants/eu-co/datasets/a.csv", nil); err != nil {
		t.Fatal(err)
	}
	if !exists(t, f.eu, "tenants/eu-co/jobs/j1/train.csv") || exists(t, f.own, "tenants/eu-co/jobs/j1/train.csv") {
		t.Error("an in-zone copy left the eu bucket")
	}
	if err := f.routed.Copy(ctx, "tenants/eu-co/imports/b.csv", "tenants/us-co/datasets/a.csv", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.eu.ReadAll(ctx, "tenants/eu-co/imports/b.csv"); string(got) != "data of tenants/us-co/datasets/a.csv" {
		t.Errorf("cross-zone copy = %q", got)
	}
	if err := f.routed.Delete(ctx, "tenants/eu-co/imports/b.csv"); err != nil {
		t.Fatal(err)
	}
	if exists(t, f.eu, "tenants/eu-co/imports/b.csv") {
		t.Error("delete did not reach the eu bucket")
	}
	if _, err := f.routed.ReadAll(ctx, "tenants/eu-co/missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing object: err = %v, want not found", err)
	}
}

func TestPlatformBucketsPlacementAndMoves(t *testing.T) {
	ctx := context.Background()
	f := newZoneFixture(t)
	if p := f.pb.Placement("eu"); p.Region != "europe-west1" {
		t.Errorf("eu placement = %+v", p)
	}
	if p := f.pb.Placement(""); p.Region != "us-central1" {
		t.Errorf("no-residency placement = %+v", p)
	}
	if p := f.pb.Placement("asia"); p.Region != "us-central1" {
		t.Errorf("a zone without a bucket falls back to the deployment's: %+v", p)
	}
	// A policy check against the tenant's placement: eu tenants' working
	// copies are in the eu bucket now.
	if err := destinations.CheckResidency("eu", f.pb.Placement("eu")); err != nil {
		t.Errorf("eu tenant refused: %v", err)
	}

	if err := f.routed.WriteAll(ctx, "tenants/us-co/datasets/a.csv", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	err := f.pb.CheckMove(ctx, "us-co", "eu")
	if !errors.Is(err, destinations.ErrMove) || !strings.Contains(err.Error(), "us-central1") {
		t.Fatalf("moving a tenant with data: err = %v, want ErrMove naming the bucket's region", err)
	}
	if err := f.pb.CheckMove(ctx, "new-co", "eu"); err != nil {
		t.Errorf("moving a tenant without data: %v", err)
	}
	if err := f.pb.CheckMove(ctx, "us-co", "asia"); err != nil {
		t.Errorf("a zone without a bucket keeps the tenant where it is: %v", err)
	}
}

// The routing bucket is a gocloud.dev driver of its own: it passes the
// conformance suite every store passes (the suite's keys are platform keys,
// so they live in the deployment's bucket; routing is tested above).
func TestPlatformBucketsConformance(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) *blob.Bucket { return newZoneFixture(t).routed }, objectstest.StoresInProcess())
}

func listKeys(t *testing.T, b *blob.Bucket, opts *blob.ListOptions) []string {
	t.Helper()
	var keys []string
	it := b.List(opts)
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
}
