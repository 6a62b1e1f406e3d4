package destinations_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"synthos.dev/synthos/shared/metrics"
	"testing"
	"time"

	"synthos.dev/synthos/shared/destinations/destinationstest"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func newStore(t *testing.T, st state.Store) *destinations.Store {
	t.Helper()
	s, err := destinations.NewStore(st, destinationstest.NewSealer(t), destinations.StoreOptions{AllowLocal: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidate(t *testing.T) {
	s := newStore(t, statetest.Bolt(t))
	sa := []byte(`{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","private_key":"x"}`)
	tests := []struct {
		name string
		sp   destinations.Spec
		want string // substring of the error; "" for valid
	}{
		{"gs ok", destinations.Spec{Name: "eu", URL: "gs://b/prefix", Region: "europe-west1", Credential: destinations.Credential{GoogleCredentialsJSON: sa}}, ""},
		{"s3 ok", destinations.Spec{Name: "us", URL: "s3://b", Region: "us-east-1", Credential: destinations.Credential{AccessKeyID: "k", SecretAccessKey: "s"}}, ""},
		{"azure sas", destinations.Spec{Name: "az", URL: "azblob://c", Region: "westeurope", Credential: destinations.Credential{SASURL: "https://a.blob.core.windows.net/c?sig=x"}}, ""},
		{"no name", destinations.Spec{URL: "s3://b", Region: "us-east-1"}, "name is required"},
		{"bad scheme", destinations.Spec{Name: "x", URL: "ftp://b", Region: "us-east-1"}, `scheme "ftp"`},
		{"query", destinations.Spec{Name: "x", URL: "s3://b?region=us-east-1", Region: "us-east-1"}, "no query"},
		{"unknown region", destinations.Spec{Name: "x", URL: "s3://b", Region: "mars-1"}, `region "mars-1" is not a known s3 region`},
		{"missing region", destinations.Spec{Name: "x", URL: "gs://b"}, "region is required"},
		{"wrong credential", destinations.Spec{Name: "x", URL: "gs://b", Region: "EU", Credential: destinations.Credential{AccessKeyID: "k", SecretAccessKey: "s"}}, "takes google_credentials_json"},
		{"user credential refused", destinations.Spec{Name: "x", URL: "gs://b", Region: "EU", Credential: destinations.Credential{GoogleCredentialsJSON: []byte(`{"type":"authorized_user"}`)}}, "not service_account or external_account"},
		{"key without secret", destinations.Spec{Name: "x", URL: "s3://b", Region: "eu-west-1", Credential: destinations.Credential{AccessKeyID: "k"}}, "secret_access_key is required"},
		{"two providers", destinations.Spec{Name: "x", URL: "s3://b", Region: "eu-west-1", Credential: destinations.Credential{AccessKeyID: "k", SecretAccessKey: "s", SASURL: "https://x"}}, "one provider only"},
		{"http endpoint", destinations.Spec{Name: "x", URL: "s3://b", Region: "eu-west-1", Endpoint: "ftp://minio"}, "must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Validate(tt.sp)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			case tt.want != "" && !errors.Is(err, destinations.ErrInvalid):
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
	cloud, _ := destinations.NewStore(statetest.Bolt(t), destinationstest.NewSealer(t), destinations.StoreOptions{})
	if err := cloud.Validate(destinations.Spec{Name: "x", URL: "file:///tmp/x"}); err == nil {
		t.Error("a cloud store accepted a file:// destination")
	}
}

func TestStoreSealsAndIsolates(t *testing.T) {
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			s := newStore(t, st)
			ctx := t.Context()
			const secret = "wJalrXUtnFEMI-very-secret"
			d, err := s.Create(ctx, "t1", destinations.Spec{Name: "archive", URL: "s3://bucket/out/", Region: "eu-central-1",
				Credential: destinations.Credential{AccessKeyID: "AKIA1", SecretAccessKey: secret}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Prefix() != "out/" || d.Bucket() != "bucket" || d.CredentialKind != "aws_access_key" {
				t.Errorf("destination = %+v", d)
			}
			var raw map[string]any
			if err := st.Get(ctx, destinations.Collection, d.ID, &raw); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(fmt.Sprint(raw), secret) || strings.Contains(fmt.Sprint(raw), "AKIA1") {
				t.Fatalf("the stored document holds the secret in clear: %v", raw)
			}
			c, err := s.Credential(ctx, d)
			if err != nil || c.SecretAccessKey != secret {
				t.Fatalf("Credential = %+v, %v", c, err)
			}
			// The sealed value is bound to its destination.
			other := d
			other.ID = "dst_other"
			if _, err := s.Credential(ctx, other); err == nil {
				t.Error("a sealed credential opened on another destination")
			}
			if _, err := s.Get(ctx, "t2", d.ID); !errors.Is(err, destinations.ErrNotFound) {
				t.Errorf("another tenant's Get = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "t2", d.ID); !errors.Is(err, destinations.ErrNotFound) {
				t.Errorf("another tenant's Delete = %v, want ErrNotFound", err)
			}
			list, err := s.List(ctx, "t1")
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %v, %v", list, err)
			}
			if err := s.Delete(ctx, "t1", d.ID); err != nil {
				t.Fatal(err)
			}
			if list, _ := s.List(ctx, "t1"); len(list) != 0 {
				t.Errorf("after Delete, List = %v", list)
			}
		})
	}
}

func TestResidency(t *testing.T) {
	tests := []struct {
		zone   string
		places []destinations.Placement
		want   string
	}{
		{"", []destinations.Placement{{What: "output", Name: "x", Provider: "s3", Region: "us-east-1"}}, ""},
		{"eu", []destinations.Placement{{What: "working copies", Name: "platform bucket", Provider: "gs", Region: "europe-west1"},
			{What: "output", Name: "a", Provider: "s3", Region: "eu-central-1"}, {What: "output", Name: "b", Provider: "azblob", Region: "westeurope"}}, ""},
		{"eu", []destinations.Placement{{What: "output", Name: "us-archive", Provider: "s3", Region: "us-east-1"}}, "output would be kept in us-archive (s3 us-east-1, zone us)"},
		{"eu", []destinations.Placement{{What: "output", Name: "london", Provider: "gs", Region: "europe-west2"}}, "zone uk"},
		{"eu", []destinations.Placement{{What: "working copies", Name: "platform bucket", Provider: "gs"}}, "region of platform bucket is not configured"},
		{"us", []destinations.Placement{{What: "output", Name: "multi", Provider: "gs", Region: "US"}}, ""},
		{"au", []destinations.Placement{{What: "output", Name: "syd", Provider: "s3", Region: "ap-southeast-2"}}, ""},
		{"eu", []destinations.Placement{{What: "working copies", Name: "laptop", Provider: "file"}}, "zone local"},
	}
	for _, tt := range tests {
		err := destinations.CheckResidency(tt.zone, tt.places...)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckResidency(%s, %v) = %v", tt.zone, tt.places, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, destinations.ErrResidency)):
			t.Errorf("CheckResidency(%s, %v) = %v, want ErrResidency containing %q", tt.zone, tt.places, err, tt.want)
		}
	}
	if err := destinations.CheckZone("mars"); err == nil {
		t.Error("CheckZone(mars) = nil")
	}
}

func s3Spec(name, bucket, region string, f *destinationstest.S3) destinations.Spec {
	return destinations.Spec{Name: name, URL: "s3://" + bucket + "/synthos", Region: region, Endpoint: f.URL,
		Credential: destinations.Credential{AccessKeyID: "test", SecretAccessKey: "test"}}
}

func TestVerifyProviders(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, statetest.Bolt(t))
	check := func(t *testing.T, sp destinations.Spec, o destinations.OpenOptions) {
		t.Helper()
		d, err := s.Create(ctx, "t1", sp)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Credential(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		b, err := destinations.Open(ctx, d, c, o)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := destinations.Verify(ctx, d, b); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// The probe is gone.
		it := b.List(&blob.ListOptions{Prefix: destinations.ProbePrefix})
		if obj, err := it.Next(ctx); err == nil {
			t.Errorf("probe %s left behind", obj.Key)
		}
	}
	t.Run("s3", func(t *testing.T) {
		f := destinationstest.NewS3(t, "tenant-bucket")
		check(t, s3Spec("s3", "tenant-bucket", "eu-central-1", f), destinations.OpenOptions{})
	})
	t.Run("gs", func(t *testing.T) {
		srv, client := objectstest.FakeGCS(t)
		if err := client.Bucket("tenant-gcs").Create(ctx, "p", nil); err != nil {
			t.Fatal(err)
		}
		check(t, destinations.Spec{Name: "gcs", URL: "gs://tenant-gcs/x", Region: "europe-west1"},
			destinations.OpenOptions{GCSEndpoint: srv.URL() + "/storage/v1/"})
	})
	t.Run("azblob", func(t *testing.T) {
		az := objectstest.StartAzurite(t)
		az.CreateContainer(t, "tenant-az")
		check(t, destinations.Spec{Name: "az", URL: "azblob://tenant-az/synthos", Region: "westeurope",
			Credential: destinations.Credential{ConnectionString: az.ConnectionString}}, destinations.OpenOptions{})
	})
}

// TestVerifyNamesMissingPermission registers an Azure container with a
// read-only SAS: Azurite refuses the probe write, and the error names the
// permission the SAS lacks.
func TestVerifyNamesMissingPermission(t *testing.T) {
	ctx := t.Context()
	az := objectstest.StartAzurite(t)
	az.CreateContainer(t, "readonly")
	cred, err := service.NewSharedKeyCredential(objectstest.AzuriteAccount, objectstest.AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour), ContainerName: "readonly",
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, statetest.Bolt(t))
	d, err := s.Create(ctx, "t1", destinations.Spec{Name: "ro", URL: "azblob://readonly", Region: "westeurope",
		Credential: destinations.Credential{SASURL: az.ServiceURL + "/readonly?" + q.Encode()}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Credential(ctx, d)
	b, err := destinations.Open(ctx, d, c, destinations.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = destinations.Verify(ctx, d, b)
	if !errors.Is(err, destinations.ErrVerify) || !strings.Contains(err.Error(), "cannot write") ||
		!strings.Contains(err.Error(), "SAS with c and w") {
		t.Fatalf("Verify = %v, want ErrVerify naming the write permission", err)
	}
}

func TestRouterFailover(t *testing.T) {
	ctx := t.Context()
	prom, err := metrics.Setup(ctx, metrics.Options{Exporter: metrics.ExportPrometheus, Service: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer prom.Shutdown(context.Background())
	defer metrics.SetDefault(prom.Recorder)()
	s := newStore(t, statetest.Bolt(t))
	primaryS3 := destinationstest.NewS3(t, "primary")
	secondaryS3 := destinationstest.NewS3(t, "secondary")
	p, err := s.Create(ctx, "t1", s3Spec("primary", "primary", "eu-west-1", primaryS3))
	if err != nil {
		t.Fatal(err)
	}
	sec, err := s.Create(ctx, "t1", s3Spec("secondary", "secondary", "eu-central-1", secondaryS3))
	if err != nil {
		t.Fatal(err)
	}
	platform := openMem(t)
	r := destinations.NewRouter(s, platform, destinations.RouterOptions{Backoff: time.Millisecond})
	defer r.Close()
	rt := destinations.Route{Primary: p.ID, Secondary: sec.ID, HasSecondary: true}
	write := func(w io.Writer) error { _, err := io.WriteString(w, "a,b\n1,2\n"); return err }

	loc, err := r.Put(ctx, "t1", rt, "jobs/j1/output.csv", write, nil)
	if err != nil || loc.Destination != p.ID || loc.Failover {
		t.Fatalf("healthy Put = %+v, %v; want the primary", loc, err)
	}

	primaryS3.Down.Store(true)
	before := primaryS3.Hits.Load()
	loc, err = r.Put(ctx, "t1", rt, "jobs/j2/output.csv", write, nil)
	if err != nil || loc.Destination != sec.ID || !loc.Failover {
		t.Fatalf("Put with the primary down = %+v, %v; want the secondary", loc, err)
	}
	if n := primaryS3.Hits.Load() - before; n < 3 {
		t.Errorf("the primary was tried %d times before failing over, want the 3 attempts", n)
	}
	b, err := r.Bucket(ctx, "t1", loc.Destination)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadAll(ctx, loc.Key); err != nil || string(got) != "a,b\n1,2\n" {
		t.Fatalf("read back from the secondary = %q, %v", got, err)
	}
	// The writes are counted by provider and outcome (no destination id).
	rec := httptest.NewRecorder()
	prom.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range []string{`synthos_destination_writes_total{outcome="error",provider="s3"} 3`,
		`synthos_destination_writes_total{outcome="ok",provider="s3"} 2`} {
		if !strings.Contains(rec.Body.String(), line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	var ph destinations.Health
	for _, h := range r.Health() {
		if h.Destination == p.ID {
			ph = h
		}
	}
	if ph.Healthy || ph.Consecutive < 3 || ph.LastError == "" {
		t.Errorf("primary health = %+v, want unhealthy after 3 failures", ph)
	}
	// While the primary is unhealthy the secondary is tried first: no
	// more requests reach the primary.
	before = primaryS3.Hits.Load()
	if loc, err = r.Put(ctx, "t1", rt, "jobs/j3/output.csv", write, nil); err != nil || loc.Destination != sec.ID {
		t.Fatalf("Put = %+v, %v", loc, err)
	}
	if n := primaryS3.Hits.Load() - before; n != 0 {
		t.Errorf("an unhealthy primary got %d requests", n)
	}
	// Both down: the error names both.
	secondaryS3.Down.Store(true)
	if _, err := r.Put(ctx, "t1", rt, "jobs/j4/output.csv", write, nil); err == nil ||
		!strings.Contains(err.Error(), "primary") || !strings.Contains(err.Error(), "secondary") {
		t.Fatalf("Put with both down = %v", err)
	}
}

func TestSignedURLs(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, statetest.Bolt(t))
	r := destinations.NewRouter(s, openMem(t), destinations.RouterOptions{})
	defer r.Close()
	get := func(t *testing.T, rawURL string) string {
		t.Helper()
		resp, err := http.Get(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			dump, _ := httputil.DumpResponse(resp, false)
			t.Fatalf("GET signed URL: %s %s", dump, b)
		}
		return string(b)
	}
	put := func(t *testing.T, id string) destinations.Location {
		loc, err := r.Put(ctx, "t1", destinations.Route{Primary: id}, "out/data.csv",
			func(w io.Writer) error { _, err := io.WriteString(w, "x\n1\n"); return err }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	t.Run("s3 presigned", func(t *testing.T) {
		f := destinationstest.NewS3(t, "signed")
		d, _ := s.Create(ctx, "t1", s3Spec("s3", "signed", "eu-west-1", f))
		u, err := r.SignedURL(ctx, "t1", put(t, d.ID), 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := url.Parse(u); q.Query().Get("X-Amz-Signature") == "" || q.Query().Get("X-Amz-Expires") != "600" {
			t.Errorf("not an S3 presigned URL with a 600 s expiry: %s", u)
		}
		if got := get(t, u); got != "x\n1\n" {
			t.Errorf("body = %q", got)
		}
	})
	t.Run("gcs V4", func(t *testing.T) {
		srv, client := objectstest.FakeGCS(t)
		if err := client.Bucket("signed-gcs").Create(ctx, "p", nil); err != nil {
			t.Fatal(err)
		}
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		sa, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "exporter@p.iam.gserviceaccount.com",
			"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": "https://oauth2.googleapis.com/token"})
		gr := destinations.NewRouter(s, openMem(t), destinations.RouterOptions{Open: destinations.OpenOptions{GCSEndpoint: srv.URL() + "/storage/v1/"}})
		defer gr.Close()
		d, err := s.Create(ctx, "t1", destinations.Spec{Name: "gcs", URL: "gs://signed-gcs/exports", Region: "EU",
			Credential: destinations.Credential{GoogleCredentialsJSON: sa}})
		if err != nil {
			t.Fatal(err)
		}
		loc, err := gr.Put(ctx, "t1", destinations.Route{Primary: d.ID}, "out/data.csv",
			func(w io.Writer) error { _, err := io.WriteString(w, "x\n1\n"); return err }, nil)
		if err != nil {
			t.Fatal(err)
		}
		u, err := gr.SignedURL(ctx, "t1", loc, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.Parse(u)
		v := q.Query()
		if q.Host != "storage.googleapis.com" || q.Path != "/signed-gcs/exports/out/data.csv" || v.Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" ||
			!strings.HasPrefix(v.Get("X-Goog-Credential"), "exporter@p.iam.gserviceaccount.com/") || (v.Get("X-Goog-Expires") != "600" && v.Get("X-Goog-Expires") != "599") {
			t.Fatalf("not a V4 signed URL of the object by the service account: %s", u)
		}
		// The signature is the service account's RSA-SHA256 over the V4
		// string to sign, which the test rebuilds from the URL.
		sig, err := hex.DecodeString(v.Get("X-Goog-Signature"))
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, v4Digest(q), sig); err != nil {
			t.Errorf("the V4 signature does not verify with the service account's key: %v", err)
		}
	})
	t.Run("azure SAS", func(t *testing.T) {
		az := objectstest.StartAzurite(t)
		az.CreateContainer(t, "signed")
		d, _ := s.Create(ctx, "t1", destinations.Spec{Name: "az", URL: "azblob://signed", Region: "westeurope",
			Credential: destinations.Credential{ConnectionString: az.ConnectionString}})
		u, err := r.SignedURL(ctx, "t1", put(t, d.ID), 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := url.Parse(u); q.Query().Get("sig") == "" || q.Query().Get("sp") != "r" {
			t.Errorf("not a read-only SAS URL: %s", u)
		}
		// Azurite checks the SAS signature.
		if got := get(t, u); got != "x\n1\n" {
			t.Errorf("body = %q", got)
		}
		// A tampered signature is refused: the URL is really signed.
		resp, err := http.Get(strings.Replace(u, "sp=r", "sp=rw", 1))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Error("a SAS with altered permissions was accepted")
			}
		}
	})
}

func openMem(t *testing.T) *blob.Bucket {
	b, err := blob.OpenBucket(t.Context(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestPlanJob(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, statetest.Bolt(t))
	f := destinationstest.NewS3(t)
	eu, _ := s.Create(ctx, "t1", s3Spec("eu", "b", "eu-central-1", f))
	us, _ := s.Create(ctx, "t1", s3Spec("us", "b", "us-east-1", f))
	euPlatform := destinations.Placement{What: "input and working copies", Name: "platform bucket", Provider: "gs", Region: "europe-west1"}

	// No policy: the platform bucket.
	jp, err := s.PlanJob(ctx, "t1", "ds1", "", "", destinations.Fixed(euPlatform))
	if err != nil || jp.Route != (destinations.Route{}) {
		t.Fatalf("PlanJob without policy = %+v, %v", jp, err)
	}
	// A tenant policy routes every job.
	if err := s.SetPolicy(ctx, "t1", "", destinations.Policy{Primary: eu.ID, Secondary: destinations.Platform, HasSecondary: true}); err != nil {
		t.Fatal(err)
	}
	if jp, _ = s.PlanJob(ctx, "t1", "ds1", "", "", destinations.Fixed(euPlatform)); jp.Route.Primary != eu.ID || !jp.Route.HasSecondary {
		t.Errorf("tenant policy route = %+v", jp.Route)
	}
	// An EU-only dataset refuses a job writing to a US destination...
	if err := s.SetPolicy(ctx, "t1", "ds1", destinations.Policy{Residency: "eu"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.PlanJob(ctx, "t1", "ds1", us.ID, "", destinations.Fixed(euPlatform))
	if !errors.Is(err, destinations.ErrResidency) || !strings.Contains(err.Error(), "zone us") {
		t.Fatalf("EU dataset to a US destination = %v, want ErrResidency", err)
	}
	// ...and one run on a platform whose bucket is in the US.
	usPlatform := euPlatform
	usPlatform.Region = "us-central1"
	if _, err = s.PlanJob(ctx, "t1", "ds1", "", "", destinations.Fixed(usPlatform)); !errors.Is(err, destinations.ErrResidency) {
		t.Fatalf("EU dataset on a US platform bucket = %v, want ErrResidency", err)
	}
	// An EU destination is fine; another dataset keeps the tenant policy.
	if jp, err = s.PlanJob(ctx, "t1", "ds1", eu.ID, "", destinations.Fixed(euPlatform)); err != nil || jp.Residency != "eu" {
		t.Fatalf("EU dataset to an EU destination = %+v, %v", jp, err)
	}
	// A policy whose own destination leaves its zone is refused when set.
	if err := s.SetPolicy(ctx, "t1", "ds2", destinations.Policy{Residency: "eu", Primary: us.ID}); !errors.Is(err, destinations.ErrResidency) {
		t.Fatalf("SetPolicy(eu → us destination) = %v", err)
	}
	// Another tenant's destination does not exist for t2.
	if _, err := s.PlanJob(ctx, "t2", "ds", eu.ID, "", destinations.Fixed(euPlatform)); !errors.Is(err, destinations.ErrNotFound) {
		t.Fatalf("t2 using t1's destination = %v, want ErrNotFound", err)
	}
}

// v4Digest is the SHA-256 of the V4 string to sign of a GET signed URL
// (https://cloud.google.com/storage/docs/authentication/signatures).
func v4Digest(u *url.URL) []byte {
	v := u.Query()
	v.Del("X-Goog-Signature")
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		q = append(q, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v.Get(k)), "+", "%20"))
	}
	canonical := strings.Join([]string{"GET", u.EscapedPath(), strings.Join(q, "&"), "host:" + u.Host + "\n", v.Get("X-Goog-SignedHeaders"), "UNSIGNED-PAYLOAD"}, "\n")
	cred := strings.SplitN(v.Get("X-Goog-Credential"), "/", 2)[1]
	scope := cred
	h := sha256.Sum256([]byte(canonical))
	sts := strings.Join([]string{"GOOG4-RSA-SHA256", v.Get("X-Goog-Date"), scope, hex.EncodeToString(h[:])}, "\n")
	d := sha256.Sum256([]byte(sts))
	return d[:]
}
