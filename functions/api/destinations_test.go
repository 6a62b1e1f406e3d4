package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/destinations/destinationstest"
)

func TestDestinationsAndResidency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{destinations: true, objectsRegion: "eu-central-1"})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Read, apikeys.Write, apikeys.Admin)
	reader := f.key("acme", apikeys.Read, apikeys.Write)
	other := f.key("other", apikeys.Read, apikeys.Write, apikeys.Admin)
	s3 := destinationstest.NewS3(t, "eu-bucket", "us-bucket", "locked")
	spec := func(name, bucket, region string) map[string]any {
		return map[string]any{"name": name, "url": "s3://" + bucket + "/synthos", "region": region, "endpoint": s3.URL,
			"credential": map[string]any{"access_key_id": "AKIATEST", "secret_access_key": "very-secret-value"}}
	}

	// Registration verifies the bucket and never returns the credential.
	r := f.do(req{method: "POST", path: "/v1/destinations", key: admin, body: spec("eu archive", "eu-bucket", "eu-central-1")})
	if r.status != 201 || strings.Contains(string(r.body), "very-secret-value") || strings.Contains(string(r.body), "sealed") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	eu := r.json(t)["id"].(string)
	if r.json(t)["verified_at"] == nil || r.json(t)["credential_kind"] != "aws_access_key" {
		t.Errorf("create answer: %s", r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/destinations", key: admin, body: spec("us archive", "us-bucket", "us-east-1")})
	if r.status != 201 {
		t.Fatalf("create us: %d %s", r.status, r.body)
	}
	us := r.json(t)["id"].(string)

	// Only admin keys register; bad input is 400 naming the problem.
	if r = f.do(req{method: "POST", path: "/v1/destinations", key: reader, body: spec("x", "eu-bucket", "eu-central-1")}); r.status != 403 {
		t.Errorf("non-admin create: %d", r.status)
	}
	if r = f.do(req{method: "POST", path: "/v1/destinations", key: admin, body: spec("x", "eu-bucket", "mars-1")}); r.status != 400 || !strings.Contains(string(r.body), "mars-1") {
		t.Errorf("unknown region: %d %s", r.status, r.body)
	}
	// A credential that cannot write is refused, naming the permission, and nothing is kept.
	s3.DenyWrites.Store(true)
	r = f.do(req{method: "POST", path: "/v1/destinations", key: admin, body: spec("locked", "locked", "eu-west-1")})
	s3.DenyWrites.Store(false)
	if r.status != 422 || r.errCode(t) != "destination_unverified" || !strings.Contains(string(r.body), "s3:PutObject") {
		t.Fatalf("unwritable destination: %d %s", r.status, r.body)
	}

	r = f.do(req{method: "GET", path: "/v1/destinations", key: reader})
	if r.status != 200 || len(r.json(t)["destinations"].([]any)) != 2 || strings.Contains(string(r.body), "sealed") {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "GET", path: "/v1/destinations/" + eu, key: reader}); r.status != 200 {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "GET", path: "/v1/destinations/" + eu, key: other}); r.status != 404 {
		t.Errorf("another tenant's get: %d", r.status)
	}
	if r = f.do(req{method: "POST", path: "/v1/destinations/" + eu + "/verify", key: admin}); r.status != 200 {
		t.Errorf("verify: %d %s", r.status, r.body)
	}

	// An EU-only dataset: a job writing to the US destination is refused
	// before it starts; one writing to the EU destination is admitted
	// with its route.
	ds := f.upload(admin)
	r = f.do(req{method: "PUT", path: "/v1/datasets/" + ds + "/storage-policy", key: admin, body: map[string]any{"residency": "eu"}})
	if r.status != 200 || r.json(t)["residency"] != "eu" {
		t.Fatalf("dataset policy: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "GET", path: "/v1/datasets/" + ds + "/storage-policy", key: reader}); r.status != 200 || r.json(t)["residency"] != "eu" {
		t.Errorf("get dataset policy: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 10, "destination": us}})
	if r.status != 422 || r.errCode(t) != "residency_violation" || !strings.Contains(string(r.body), "zone us") {
		t.Fatalf("EU dataset to a US destination: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 10, "destination": eu, "secondary_destination": us}})
	if r.status != 422 || !strings.Contains(string(r.body), "secondary output") {
		t.Fatalf("EU dataset with a US secondary: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 10, "destination": eu}})
	if r.status != 202 {
		t.Fatalf("EU dataset to the EU destination: %d %s", r.status, r.body)
	}
	route, _ := r.json(t)["route"].(map[string]any)
	if route["primary"] != eu || r.json(t)["residency"] != "eu" {
		t.Errorf("job route = %v residency %v", route, r.json(t)["residency"])
	}
	f.finish("acme", r.json(t)["id"].(string))

	// Inputs from the tenant's bucket: an object imported as a dataset.
	putS3(t, s3.URL, "eu-bucket", "synthos/in/customers.csv", sampleCSV)
	r = f.do(req{method: "POST", path: "/v1/datasets/import", key: admin, body: map[string]any{"destination": eu, "key": "in/customers.csv"}})
	if r.status != 201 || r.json(t)["status"] != "ready" || r.json(t)["name"] != "customers.csv" {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	putS3(t, s3.URL, "us-bucket", "synthos/in/customers.csv", sampleCSV)
	if r = f.do(req{method: "POST", path: "/v1/datasets/import", key: admin, body: map[string]any{"destination": us, "key": "/in/customers.csv"}}); r.status != 400 {
		t.Errorf("import of an escaping key: %d %s", r.status, r.body)
	}

	// The tenant policy: a policy whose destination leaves its zone is refused.
	r = f.do(req{method: "PUT", path: "/v1/storage-policy", key: admin, body: map[string]any{"residency": "eu", "primary": us}})
	if r.status != 422 || r.errCode(t) != "residency_violation" {
		t.Fatalf("tenant policy eu → us: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "PUT", path: "/v1/storage-policy", key: admin, body: map[string]any{"primary": eu}})
	if r.status != 200 {
		t.Fatalf("tenant policy: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "GET", path: "/v1/storage-policy", key: reader}); r.json(t)["primary"] != eu {
		t.Errorf("get tenant policy: %s", r.body)
	}
	// With the tenant in the EU, importing from the US bucket is refused.
	if r = f.do(req{method: "PUT", path: "/v1/storage-policy", key: admin, body: map[string]any{"residency": "eu", "primary": eu}}); r.status != 200 {
		t.Fatalf("tenant residency: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/datasets/import", key: admin, body: map[string]any{"destination": us, "key": "in/customers.csv"}})
	if r.status != 422 || r.errCode(t) != "residency_violation" {
		t.Fatalf("EU tenant importing from a US bucket: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "DELETE", path: "/v1/destinations/" + us, key: admin}); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r = f.do(req{method: "GET", path: "/v1/destinations/" + us, key: admin}); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
}

// exerciseDestinations calls every destination and storage-policy route
// once (TestEveryRouteMatchesOpenAPI validates the answers).
func exerciseDestinations(t *testing.T, f *fixture, admin, ds string) {
	t.Helper()
	s3 := destinationstest.NewS3(t, "bucket")
	r := f.do(req{method: "POST", path: "/v1/destinations", key: admin, body: map[string]any{"name": "eu", "url": "s3://bucket",
		"region": "eu-west-1", "endpoint": s3.URL, "credential": map[string]any{"access_key_id": "k", "secret_access_key": "s"}}})
	if r.status != 201 {
		t.Fatalf("create destination: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := f.do(req{method: "POST", path: "/v1/datasets/import", key: admin, body: map[string]any{"destination": id, "key": "missing.csv"}}); r.status != 404 {
		t.Errorf("import of a missing object: %d %s", r.status, r.body)
	}
	for _, rq := range []req{
		{method: "GET", path: "/v1/destinations"},
		{method: "GET", path: "/v1/destinations/" + id},
		{method: "POST", path: "/v1/destinations/" + id + "/verify"},
		{method: "PUT", path: "/v1/storage-policy", body: map[string]any{"residency": "eu", "primary": id}},
		{method: "GET", path: "/v1/storage-policy"},
		{method: "PUT", path: "/v1/datasets/" + ds + "/storage-policy", body: map[string]any{"residency": "eu"}},
		{method: "GET", path: "/v1/datasets/" + ds + "/storage-policy"},
		{method: "DELETE", path: "/v1/destinations/" + id},
	} {
		rq.key = admin
		if r := f.do(rq); r.status >= 300 {
			t.Errorf("%s %s: %d %s", rq.method, rq.path, r.status, r.body)
		}
	}
}

// TestDestinationsNeedRouter: without a keyring the routes answer 503.
func TestDestinationsNeedRouter(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	admin := f.key("acme", apikeys.Read, apikeys.Admin)
	if r := f.do(req{method: "GET", path: "/v1/destinations", key: admin}); r.status != 503 {
		t.Errorf("list without a router: %d %s", r.status, r.body)
	}
}

// putS3 stores an object in the fake S3 with a plain PUT (gofakes3 checks
// no signature).
func putS3(t *testing.T, base, bucket, key, body string) {
	t.Helper()
	rq, err := http.NewRequest("PUT", base+"/"+bucket+"/"+key, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("put %s/%s: %d", bucket, key, res.StatusCode)
	}
}

// With a platform bucket per residency zone (SYNTHOS_ZONE_BUCKETS), a
// tenant's residency picks the bucket its data lives in: an EU tenant of a
// US deployment is served from the EU bucket, and a tenant whose data is
// already in the US bucket cannot switch to EU without removing it.
func TestZoneBuckets(t *testing.T) {
	t.Parallel()
	euBucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { _ = euBucket.Close() })
	f := newFixture(t, fixtureOptions{destinations: true, objectsRegion: "us-east-1", euBucket: euBucket})
	f.spec = loadSpec(t)

	// An EU tenant sets its residency first: its uploads go to the EU
	// bucket, and its jobs pass the residency check there.
	euAdmin := f.key("eu-co", apikeys.Read, apikeys.Write, apikeys.Admin)
	if r := f.do(req{method: "PUT", path: "/v1/storage-policy", key: euAdmin, body: map[string]any{"residency": "eu"}}); r.status != 200 {
		t.Fatalf("eu policy: %d %s", r.status, r.body)
	}
	ds := f.upload(euAdmin)
	if n := countObjects(t, euBucket, "tenants/eu-co/"); n == 0 {
		t.Fatal("the EU tenant's upload is not in the EU bucket")
	}
	if n := countObjects(t, f.raw, "tenants/eu-co/"); n != 0 {
		t.Fatalf("%d of the EU tenant's objects are in the US bucket", n)
	}
	r := f.do(req{method: "POST", path: "/v1/jobs", key: euAdmin, body: map[string]any{"dataset": ds, "rows": 10}})
	if r.status != 202 {
		t.Fatalf("EU tenant's job refused: %d %s", r.status, r.body)
	}

	// A tenant with data in the US bucket cannot move to EU; one without
	// residency stays in the US bucket.
	usAdmin := f.key("us-co", apikeys.Read, apikeys.Write, apikeys.Admin)
	f.upload(usAdmin)
	if countObjects(t, euBucket, "tenants/us-co/") != 0 || countObjects(t, f.raw, "tenants/us-co/") == 0 {
		t.Fatal("a tenant without residency must be kept in the deployment's own (US) bucket")
	}
	r = f.do(req{method: "PUT", path: "/v1/storage-policy", key: usAdmin, body: map[string]any{"residency": "eu"}})
	if r.status != 409 || r.errCode(t) != "residency_data_elsewhere" || !strings.Contains(string(r.body), "us-east-1") {
		t.Fatalf("moving a tenant with data: %d %s", r.status, r.body)
	}
	// Without zone buckets an EU policy on a US deployment refuses jobs
	// (TestDestinationsAndResidency); here the dataset-level policy of a
	// tenant without residency still does, since its data is in the US.
	usDS := f.upload(usAdmin)
	if r = f.do(req{method: "PUT", path: "/v1/datasets/" + usDS + "/storage-policy", key: usAdmin, body: map[string]any{"residency": "eu"}}); r.status != 200 {
		t.Fatalf("dataset policy: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/jobs", key: usAdmin, body: map[string]any{"dataset": usDS, "rows": 10}})
	if r.status != 422 || r.errCode(t) != "residency_violation" {
		t.Fatalf("EU dataset of a US-resident tenant: %d %s", r.status, r.body)
	}
}

func countObjects(t *testing.T, b *blob.Bucket, prefix string) int {
	t.Helper()
	n := 0
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		_, err := it.Next(context.Background())
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}
