package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// GCSSessions starts Cloud Storage resumable upload sessions through the
// JSON API (POST .../upload/storage/v1/b/BUCKET/o?uploadType=resumable):
// the server authenticates the start, pins the object name, content type
// and, when the client declared it, the size (X-Upload-Content-Length,
// which Cloud Storage enforces), and hands the client the session URL. The
// client then PUTs the bytes there in chunks with Content-Range, resuming
// after a failure from the Range the session reports; the URL needs no
// credentials and lives a week, so it is handed only to the key holder
// that started the upload.
type GCSSessions struct {
	// Bucket is the data bucket.
	Bucket string
	// Endpoint is the JSON API's root: https://storage.googleapis.com, or
	// http://$STORAGE_EMULATOR_HOST.
	Endpoint string
	// Client sends the authenticated start request; nil builds one from
	// the Application Default Credentials on first use (none for an
	// emulator).
	Client *http.Client

	once sync.Once
	err  error
}

// NewGCSSessions returns the session starter of gs://bucket, honouring
// STORAGE_EMULATOR_HOST as the Google client libraries do.
func NewGCSSessions(bucket string) *GCSSessions {
	g := &GCSSessions{Bucket: bucket, Endpoint: "https://storage.googleapis.com"}
	if h := os.Getenv("STORAGE_EMULATOR_HOST"); h != "" {
		if !strings.Contains(h, "://") {
			h = "http://" + h
		}
		g.Endpoint, g.Client = strings.TrimSuffix(h, "/"), http.DefaultClient
	}
	return g
}

// StartSession implements SessionStarter.
func (g *GCSSessions) StartSession(ctx context.Context, key string, size int64, contentType string) (string, error) {
	g.once.Do(func() {
		if g.Client == nil {
			g.Client, _, g.err = htransport.NewClient(context.Background(),
				option.WithScopes("https://www.googleapis.com/auth/devstorage.read_write"))
		}
	})
	if g.err != nil {
		return "", fmt.Errorf("storage client: %w", g.err)
	}
	u := g.Endpoint + "/upload/storage/v1/b/" + url.PathEscape(g.Bucket) + "/o?uploadType=resumable&name=" + url.QueryEscape(key)
	meta, _ := json.Marshal(map[string]string{"name": key, "contentType": contentType})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(meta)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("X-Upload-Content-Type", contentType)
	if size > 0 {
		req.Header.Set("X-Upload-Content-Length", strconv.FormatInt(size, 10))
	}
	res, err := g.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("start resumable upload: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("start resumable upload: %s: %s", res.Status, strings.TrimSpace(string(body)))
	}
	loc := res.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("start resumable upload: %s without a session Location", res.Status)
	}
	return loc, nil
}
