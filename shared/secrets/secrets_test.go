package secrets_test

import (
	"context"
	"errors"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/secrets/secretstest"
)

func TestEnv(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, seed map[string]string) secrets.Source {
		env := make(map[string]string, len(seed))
		for name, v := range seed {
			env[secrets.EnvName(name)] = v
		}
		return secrets.Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	})
}

func TestDir(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, seed map[string]string) secrets.Source {
		dir := t.TempDir()
		for name, v := range seed {
			// Files end with a newline, as an editor or `echo` leaves them.
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		src, err := secrets.Open(t.Context(), "file://"+filepath.ToSlash(dir))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return src
	})
}

func TestManager(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, seed map[string]string) secrets.Source {
		_, src := startManager(t, seed)
		return src
	})
}

// fakeManager is an in-process Secret Manager holding version 1 of each
// secret in one project.
type fakeManager struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	project string
	values  map[string]string
	corrupt atomic.Bool // send a wrong CRC32C
	noCRC   atomic.Bool // send no CRC32C, as old clients' payloads have none

	mu    sync.Mutex
	names []string // requested resource names
}

func (f *fakeManager) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	f.mu.Lock()
	f.names = append(f.names, req.GetName())
	f.mu.Unlock()
	p := strings.Split(req.GetName(), "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "secrets" || p[4] != "versions" {
		return nil, status.Errorf(codes.InvalidArgument, "bad resource name %q", req.GetName())
	}
	v, ok := f.values[p[3]]
	if !ok || p[1] != f.project || (p[5] != "latest" && p[5] != "1") {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", req.GetName())
	}
	data := []byte(v)
	payload := &secretmanagerpb.SecretPayload{Data: data}
	if !f.noCRC.Load() {
		crc := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
		if f.corrupt.Load() {
			crc ^= 1
		}
		payload.DataCrc32C = &crc
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    "projects/" + f.project + "/secrets/" + p[3] + "/versions/1",
		Payload: payload,
	}, nil
}

func (f *fakeManager) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.names...)
}

// startManager serves a fakeManager on a loopback port and returns it with a
// Source using the real client.
func startManager(t *testing.T, seed map[string]string) (*fakeManager, secrets.Source) {
	t.Helper()
	fake := &fakeManager{project: "test-project", values: seed}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	src, err := secrets.Manager(t.Context(), fake.project,
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatalf("Manager: %v", err)
	}
	return fake, src
}

func TestManagerChecksum(t *testing.T) {
	fake, src := startManager(t, map[string]string{"key": "value"})
	t.Cleanup(func() { _ = src.Close() })
	tests := []struct {
		name           string
		corrupt, noCRC bool
		want           string
		err            error
	}{
		{"valid CRC32C", false, false, "value", nil},
		{"corrupted CRC32C", true, false, "", secrets.ErrCorrupt},
		{"no CRC32C", false, true, "value", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.corrupt.Store(tt.corrupt)
			fake.noCRC.Store(tt.noCRC)
			got, err := src.Get(t.Context(), "key")
			if !errors.Is(err, tt.err) || string(got) != tt.want {
				t.Errorf("Get = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestManagerResourceNames(t *testing.T) {
	fake, src := startManager(t, map[string]string{"key": "value"})
	t.Cleanup(func() { _ = src.Close() })
	tests := []struct {
		name     string
		resource string // sent to the server; "" if none
		err      error
	}{
		{"key", "projects/test-project/secrets/key/versions/latest", nil},
		{"projects/test-project/secrets/key/versions/1", "projects/test-project/secrets/key/versions/1", nil},
		{"projects/test-project/secrets/key", "projects/test-project/secrets/key/versions/latest", nil},
		{"projects/other-project/secrets/key/versions/latest", "projects/other-project/secrets/key/versions/latest", secrets.ErrNotFound},
		{"projects/test-project/secrets/key/versions/7", "projects/test-project/secrets/key/versions/7", secrets.ErrNotFound},
		{"projects//secrets/key", "", secrets.ErrInvalidName},
		{"projects/p/secrets/key/versions/", "", secrets.ErrInvalidName},
		{"projects/p/secrets/key/aliases/x", "", secrets.ErrInvalidName},
		{"projects/p/secrets/../versions/1", "", secrets.ErrInvalidName},
		{"projects/p/topics/key", "", secrets.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.requested())
			got, err := src.Get(t.Context(), tt.name)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Get = %q, %v; want error %v", got, err, tt.err)
			}
			if tt.err == nil && string(got) != "value" {
				t.Errorf("Get = %q, want %q", got, "value")
			}
			sent := fake.requested()[before:]
			switch {
			case tt.resource == "" && len(sent) != 0:
				t.Errorf("requested %q, want no request", sent)
			case tt.resource != "" && (len(sent) != 1 || sent[0] != tt.resource):
				t.Errorf("requested %q, want [%q]", sent, tt.resource)
			}
		})
	}
}

func TestManagerInvalidProject(t *testing.T) {
	for _, p := range []string{"", "a/b"} {
		if _, err := secrets.Manager(t.Context(), p, option.WithoutAuthentication()); err == nil {
			t.Errorf("Manager(%q) = nil error", p)
		}
	}
}

func TestDirFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("leaked"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"lf":       "v\n",
		"crlf":     "v\r\n",
		"two-lf":   "v\n\n",
		"bare":     "v",
		"cr-only":  "v\r",
		"inner":    "a\nb\n",
		"blank":    "\n",
		"empty":    "",
		"too-big":  strings.Repeat("x", 64<<10+1),
		"at-limit": strings.Repeat("x", 64<<10) + "\r\n",
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	src, err := secrets.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })

	tests := []struct {
		name, want string
		err        error // nil: success; errAny: any error but ErrNotFound
	}{
		{"lf", "v", nil},
		{"crlf", "v", nil},
		{"two-lf", "v\n", nil},
		{"bare", "v", nil},
		{"cr-only", "v\r", nil},
		{"inner", "a\nb", nil},
		{"blank", "", secrets.ErrNotFound},
		{"empty", "", secrets.ErrNotFound},
		{"too-big", "", secrets.ErrCorrupt},
		{"at-limit", strings.Repeat("x", 64<<10), nil},
		{"escape", "", errAny},
		{"subdir", "", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.Get(t.Context(), tt.name)
			switch {
			case tt.err == errAny:
				if err == nil || errors.Is(err, secrets.ErrNotFound) || len(got) != 0 {
					t.Errorf("Get = %q, %v; want a failure other than ErrNotFound", got, err)
				}
			case !errors.Is(err, tt.err) || string(got) != tt.want:
				t.Errorf("Get = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestEnvName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"webhook-pepper", "SYNTHOS_SECRET_WEBHOOK_PEPPER"},
		{"db_password", "SYNTHOS_SECRET_DB_PASSWORD"},
		{"Stripe-Key-2", "SYNTHOS_SECRET_STRIPE_KEY_2"},
	}
	for _, tt := range tests {
		if got := secrets.EnvName(tt.name); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOpenEnv(t *testing.T) {
	t.Setenv("SYNTHOS_SECRET_WEBHOOK_PEPPER", "from-env")
	t.Setenv("SYNTHOS_SECRET_EMPTY", "")
	src, err := secrets.Open(t.Context(), "env://")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got, err := src.Get(t.Context(), "webhook-pepper"); err != nil || string(got) != "from-env" {
		t.Errorf("Get(webhook-pepper) = %q, %v; want from-env", got, err)
	}
	if _, err := src.Get(t.Context(), "empty"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Get(empty) = %v, want ErrNotFound", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		url    string
		scheme bool // want ErrScheme
	}{
		{"vault://secret/data", true},
		{"webhook-pepper", true},
		{"env://host", false},
		{"env:///path", false},
		{"file://", false},
		{"file://host/dir", false},
		{"file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "missing")), false},
		{"gcpsecretmanager://", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		src, err := secrets.Open(t.Context(), tt.url)
		if err == nil {
			_ = src.Close()
			t.Errorf("Open(%q) = nil error", tt.url)
			continue
		}
		if got := errors.Is(err, secrets.ErrScheme); got != tt.scheme {
			t.Errorf("Open(%q) = %v; errors.Is(ErrScheme) = %v, want %v", tt.url, err, got, tt.scheme)
		}
		if !strings.Contains(err.Error(), tt.url) {
			t.Errorf("Open(%q) error %q does not name the URL", tt.url, err)
		}
	}
}

func TestResolveWithoutSource(t *testing.T) {
	if got, err := secrets.Resolve(t.Context(), nil, "plain"); err != nil || got != "plain" {
		t.Errorf("Resolve(nil, plain) = %q, %v; want plain, nil", got, err)
	}
	if _, err := secrets.Resolve(t.Context(), nil, "secret://x"); !errors.Is(err, secrets.ErrNoSource) {
		t.Errorf("Resolve(nil, secret://x) = %v, want ErrNoSource", err)
	}
}
