package objects_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"

	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/objects/objectstest"
)

func TestMem(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) *blob.Bucket {
		return open(t, "mem://")
	}, objectstest.StoresInProcess())
}

func TestFile(t *testing.T) {
	objectstest.Run(t, func(t *testing.T) *blob.Bucket {
		// A directory that does not exist yet: Open must create it.
		return open(t, fileURL(filepath.Join(t.TempDir(), "bucket", "nested")))
	})
}

// TestGCS runs the suite against fake-gcs-server in this process, through the
// real cloud.google.com/go/storage client handed to gcsblob. The server
// listens on a loopback port (rather than its in-memory transport, which
// buffers whole responses) so downloads stream. It keeps every object in
// memory and appends each resumable-upload chunk to it, so the heap bound is
// asserted only for reads.
func TestGCS(t *testing.T) {
	_, client := objectstest.FakeGCS(t)

	var n atomic.Int64
	objectstest.Run(t, func(t *testing.T) *blob.Bucket {
		name := fmt.Sprintf("synthos-test-%d", n.Add(1))
		if err := client.Bucket(name).Create(t.Context(), "test-project", nil); err != nil {
			t.Fatalf("create bucket %s: %v", name, err)
		}
		b, err := gcsblob.OpenBucket(t.Context(), nil, name, &gcsblob.Options{Client: client})
		if err != nil {
			t.Fatalf("gcsblob.OpenBucket: %v", err)
		}
		// Closing the bucket leaves the shared client open.
		t.Cleanup(func() { _ = b.Close() })
		return b
	}, objectstest.StoresInProcess())
}

// TestS3 runs the suite against gofakes3 (in-memory backend) in this process,
// through the real aws-sdk-go-v2 S3 client handed to s3blob. gofakes3 keeps
// objects in memory, so the heap bound is asserted only for reads.
func TestS3(t *testing.T) {
	fake := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	srv := httptest.NewServer(fake.Server())
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test-key", "test-secret", ""),
		// Only send and check checksums where the API requires them: gofakes3
		// does not decode aws-chunked bodies with trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})

	var n atomic.Int64
	objectstest.Run(t, func(t *testing.T) *blob.Bucket {
		name := fmt.Sprintf("synthos-test-%d", n.Add(1))
		if _, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("create bucket %s: %v", name, err)
		}
		b, err := s3blob.OpenBucket(t.Context(), client, name, nil)
		if err != nil {
			t.Fatalf("s3blob.OpenBucket: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}, objectstest.StoresInProcess())
}

// TestAzure runs the suite against Azurite, the Azure Storage emulator, in
// its own process, through the real Azure SDK client handed to azureblob.
func TestAzure(t *testing.T) {
	az := objectstest.StartAzurite(t)
	var n atomic.Int64
	objectstest.Run(t, func(t *testing.T) *blob.Bucket {
		name := az.CreateContainer(t, fmt.Sprintf("synthos-test-%d", n.Add(1)))
		b, err := azureblob.OpenBucket(t.Context(), az.Client.ServiceClient().NewContainerClient(name), nil)
		if err != nil {
			t.Fatalf("azureblob.OpenBucket: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}

func open(t *testing.T, u string) *blob.Bucket {
	t.Helper()
	b, err := objects.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%q): %v", u, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func fileURL(dir string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

func TestOpenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url string
		scheme    bool // want ErrScheme
		wantText  string
	}{
		{"unknown scheme", "ftp://host/dir", true, "accepted: gs://, s3://, azblob://, file://, mem://"},
		{"no scheme", "/just/a/path", true, `""`},
		{"bad url", "gs://%zz", false, "gs://%zz"},
		{"file without dir", "file://", false, "needs a directory"},
		{"file is not a directory", fileURL(notDir), false, "not a directory"},
		{"bad fileblob param", fileURL(t.TempDir()) + "?metadata=bogus", false, "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := objects.Open(t.Context(), tt.url)
			if err == nil {
				_ = b.Close()
				t.Fatalf("Open(%q) = nil error", tt.url)
			}
			if got := errors.Is(err, objects.ErrScheme); got != tt.scheme {
				t.Errorf("errors.Is(%v, ErrScheme) = %v, want %v", err, got, tt.scheme)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Open(%q) error %q does not contain %q", tt.url, err, tt.wantText)
			}
		})
	}
}

func TestOpenFileKeepsQuery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "skip")
	b := open(t, fileURL(dir)+"?metadata=skip")
	if err := objects.Put(t.Context(), b, "k", func(w io.Writer) error {
		_, err := io.WriteString(w, "v")
		return err
	}, nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "k" {
		t.Errorf("directory holds %q, want only [k] (no .attrs sidecar with metadata=skip)", names)
	}
}

// BenchmarkFile measures write-then-read throughput of a file:// bucket
// through Put and CopyTo.
func BenchmarkFile(b *testing.B) {
	for _, size := range []int{64 << 10, 8 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			bkt, err := objects.Open(b.Context(), fileURL(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			defer bkt.Close()
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			opts := &blob.WriterOptions{ContentType: "application/octet-stream"}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := objects.Put(b.Context(), bkt, "bench.bin", func(w io.Writer) error {
					_, err := w.Write(data)
					return err
				}, opts); err != nil {
					b.Fatal(err)
				}
				if _, err := objects.CopyTo(b.Context(), bkt, "bench.bin", io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestOpenRelativeFileURL: file://rel/dir is relative to the working
// directory (the local default is file://.synthos/objects), never the root.
func TestOpenRelativeFileURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	b, err := objects.Open(ctx, "file://.synthos/objects")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.WriteAll(ctx, "k", []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".synthos", "objects", "k")); err != nil {
		t.Errorf("object not under the working directory: %v", err)
	}
}
