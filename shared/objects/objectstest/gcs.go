package objectstest

import (
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// FakeGCS starts fake-gcs-server in this process and returns it with the
// real cloud.google.com/go/storage client pointed at it; both stop when the test
// ends. The server listens on a loopback port (rather than its in-memory
// transport, which buffers whole responses) so downloads stream, and the
// client reads through the JSON API, the path the fake serves downloads on
// (the client's default XML reads go to a host it does not route).
func FakeGCS(t testing.TB) (*fakestorage.Server, *storage.Client) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatalf("fake-gcs-server: %v", err)
	}
	t.Cleanup(srv.Stop)
	client, err := storage.NewClient(t.Context(), option.WithEndpoint(srv.URL()+"/storage/v1/"),
		option.WithoutAuthentication(), storage.WithJSONReads())
	if err != nil {
		t.Fatalf("storage.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return srv, client
}
