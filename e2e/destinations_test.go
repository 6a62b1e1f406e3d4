package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/destinations/destinationstest"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/pipeline"
)

// TestDestinationFailover: a job routed to a tenant's S3 bucket whose store
// answers 503 when the outputs are delivered succeeds on the route's
// secondary (an Azure-like second S3 here), records where each output
// lives, and the API serves the output and the report from there. For a
// tenant that encrypts its data at rest the delivered objects, the model
// included, are plaintext: the bucket is the customer's.
func TestDestinationFailover(t *testing.T) {
	t.Parallel()
	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypt=%v", encrypt), func(t *testing.T) {
			t.Parallel()
			testDestinationFailover(t, encrypt)
		})
	}
}

func testDestinationFailover(t *testing.T, encrypt bool) {
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	if encrypt {
		encryptTenant(t, e, "acme")
	}
	store, err := destinations.NewStore(e.env.State, destinationstest.NewSealer(t), destinations.StoreOptions{AllowLocal: true})
	if err != nil {
		t.Fatal(err)
	}
	e.env.Destinations = destinations.NewRouter(store, e.env.Objects, destinations.RouterOptions{Backoff: time.Millisecond})
	t.Cleanup(func() { _ = e.env.Destinations.Close() })

	primaryS3, secondaryS3 := destinationstest.NewS3(t, "primary"), destinationstest.NewS3(t, "secondary")
	mk := func(name string, f *destinationstest.S3, region string) destinations.Destination {
		d, err := store.Create(ctx, "acme", destinations.Spec{Name: name, URL: "s3://" + name + "/exports", Region: region,
			Endpoint: f.URL, Credential: destinations.Credential{AccessKeyID: "k", SecretAccessKey: "s"}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	primary, secondary := mk("primary", primaryS3, "eu-west-1"), mk("secondary", secondaryS3, "eu-central-1")

	// The primary's outage begins after registration.
	primaryS3.Down.Store(true)
	ds := upload(t, e.env, "acme", "ds-small", "adult.csv", adult(t, 2000))
	j := &jobs.Job{ID: "job-failover", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 500, Model: "tree", Seed: 3, Format: "csv",
		Destination: primary.ID, SecondaryDestination: secondary.ID}}
	adm, err := admission.New(e.env.State, admission.Options{Catalog: openPlans(t),
		Place: admission.PlaceWith(store, destinations.Fixed(destinations.Placement{What: "working copies", Name: "platform bucket", Provider: "file"}))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.Admit(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Submit(ctx, e.env.Events, j); err != nil {
		t.Fatal(err)
	}
	e.drain(t)

	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded {
		t.Fatalf("job is %s (%s %v), want succeeded on the secondary", got.State, got.Error, got.Reasons)
	}
	for _, name := range []string{pipeline.OutputData, pipeline.OutputReportJSON, pipeline.OutputReportHTML, pipeline.OutputModel} {
		loc, ok := got.Locations[name]
		if !ok || loc.Destination != secondary.ID || !loc.Failover {
			t.Errorf("location of %s = %+v (ok %v), want the secondary after failover", name, loc, ok)
		}
	}
	if primaryS3.Hits.Load() < 3 {
		t.Errorf("the primary saw %d requests, want the retries before failing over", primaryS3.Hits.Load())
	}

	// The API follows the location: the signed download URL is the
	// secondary's (an S3 presigned URL) and the report streams from it.
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 10_000, ConcurrentJobs: 10, ReportRetentionDays: 1})
	status, body := call("GET", "/v1/jobs/"+j.ID+"/output", nil)
	u, _ := body["url"].(string)
	if status != 200 || !strings.HasPrefix(u, secondaryS3.URL+"/secondary/exports/synthos/jobs/"+j.ID) || !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("output URL: %d %v", status, body)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if n := bytes.Count(out, []byte("\n")); res.StatusCode != 200 || n != 501 {
		t.Errorf("download from the secondary: %d, %d lines", res.StatusCode, n)
	}
	if status, body := call("GET", "/v1/jobs/"+j.ID+"/report?format=json", nil); status != 200 || body["gate"] == nil {
		t.Errorf("report from the secondary: %d %v", status, body)
	}
	sb, err := e.env.Destinations.Bucket(ctx, "acme", secondary.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{pipeline.OutputData, pipeline.OutputReportJSON, pipeline.OutputModel} {
		b, err := sb.ReadAll(ctx, got.Locations[name].Key)
		if err != nil || bytes.HasPrefix(b, []byte(keyring.Magic)) {
			t.Errorf("delivered %s: %.40q, %v; want plaintext", name, b, err)
		}
		if name == pipeline.OutputModel && err == nil {
			if _, err := model.Load(bytes.NewReader(b)); err != nil {
				t.Errorf("the delivered model does not load: %v", err)
			}
		}
	}
}
