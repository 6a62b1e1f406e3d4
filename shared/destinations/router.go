package destinations

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/objects"
)

// Platform is the id a Route and a Location use for the platform's own bucket.
const Platform = ""

// Route says where a job's outputs go: the primary destination, and the
// secondary that takes over when the primary refuses a write. Empty ids
// name the platform bucket.
type Route struct {
	Primary   string `json:"primary,omitempty"`
	Secondary string `json:"secondary,omitempty"`
	// HasSecondary is true when Secondary was chosen (the platform bucket
	// can be a secondary, and its id is empty).
	HasSecondary bool `json:"has_secondary,omitempty"`
}

// Location is where one object was written.
type Location struct {
	Destination string `json:"destination,omitempty"` // "" is the platform bucket
	Key         string `json:"key"`
	// Failover is true when the primary refused the write and the object
	// went to the secondary.
	Failover bool `json:"failover,omitempty"`
}

// Health is what the router has seen of one destination.
type Health struct {
	Destination string        `json:"destination"`
	Name        string        `json:"name"`
	Provider    string        `json:"provider"`
	Writes      int64         `json:"writes"`
	Errors      int64         `json:"errors"`
	Consecutive int           `json:"consecutive_errors"`
	LastError   string        `json:"last_error,omitempty"`
	LastErrorAt time.Time     `json:"last_error_at,omitzero"`
	Latency     time.Duration `json:"latency_ewma_ns"`
	Healthy     bool          `json:"healthy"`
}

// unhealthyAfter consecutive failed operations mark a destination
// unhealthy until one succeeds; the router then tries the secondary first.
const unhealthyAfter = 3

// RouterOptions configure a Router.
type RouterOptions struct {
	Open OpenOptions
	// Attempts per destination before failing over (default 3).
	Attempts int
	// Backoff before the second attempt, doubled after each (default 200ms).
	Backoff time.Duration
	// PlatformName names the platform bucket in errors and health.
	PlatformName string
}

// Router opens tenants' destinations (once each), writes objects to a
// route's primary with retries, fails over to its secondary, and tracks
// each destination's health.
type Router struct {
	store    *Store
	platform *blob.Bucket
	o        RouterOptions

	mu      sync.Mutex
	buckets map[string]*blob.Bucket
	health  map[string]*Health
}

// NewRouter returns a Router over store; platform is the platform's bucket.
func NewRouter(store *Store, platform *blob.Bucket, o RouterOptions) *Router {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.PlatformName == "" {
		o.PlatformName = "platform bucket"
	}
	return &Router{store: store, platform: platform, o: o, buckets: map[string]*blob.Bucket{}, health: map[string]*Health{}}
}

// Store is the router's destination store.
func (r *Router) Store() *Store { return r.store }

// Bucket returns the bucket of tenant's destination id ("" for the
// platform's), opened once and kept.
func (r *Router) Bucket(ctx context.Context, tenant, id string) (*blob.Bucket, error) {
	if id == Platform {
		return r.platform, nil
	}
	d, err := r.store.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	b, ok := r.buckets[id]
	r.mu.Unlock()
	if ok {
		return b, nil
	}
	c, err := r.store.Credential(ctx, d)
	if err != nil {
		return nil, err
	}
	b, err = Open(ctx, d, c, r.o.Open)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.buckets[id]; ok {
		_ = b.Close()
		return prev, nil
	}
	r.buckets[id] = b
	if _, ok := r.health[id]; !ok {
		r.health[id] = &Health{Destination: id, Name: d.Name, Provider: d.Provider(), Healthy: true}
	}
	return b, nil
}

// Forget closes and drops a destination's bucket (after it is deleted).
func (r *Router) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.buckets[id]; ok {
		_ = b.Close()
		delete(r.buckets, id)
	}
	delete(r.health, id)
}

// Close closes every opened destination bucket (not the platform's).
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errList []error
	for id, b := range r.buckets {
		errList = append(errList, b.Close())
		delete(r.buckets, id)
	}
	return errors.Join(errList...)
}

// order returns the destinations to try, primary first unless it is
// unhealthy and the secondary is not.
func (r *Router) order(rt Route) []string {
	if !rt.HasSecondary || rt.Secondary == rt.Primary {
		return []string{rt.Primary}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, s := r.health[rt.Primary], r.health[rt.Secondary]
	if p != nil && !p.Healthy && (s == nil || s.Healthy) {
		return []string{rt.Secondary, rt.Primary}
	}
	return []string{rt.Primary, rt.Secondary}
}

// Copy streams the object srcKey of src to key on the route's destination,
// failing over as Put does. Memory stays flat whatever the object's size.
func (r *Router) Copy(ctx context.Context, tenant string, rt Route, key string, src *blob.Bucket, srcKey string) (Location, error) {
	attrs, err := src.Attributes(ctx, srcKey)
	if err != nil {
		return Location{}, fmt.Errorf("destinations: copy %s: %w", srcKey, err)
	}
	return r.Put(ctx, tenant, rt, key, func(w io.Writer) error {
		rd, err := src.NewReader(ctx, srcKey, nil)
		if err != nil {
			return err
		}
		defer rd.Close()
		_, err = io.Copy(w, rd)
		return err
	}, &blob.WriterOptions{ContentType: attrs.ContentType})
}

// Put writes key on the route's primary with retries and, when every
// attempt fails, on its secondary. write may run several times (once per
// attempt), so it must produce the same bytes each time.
func (r *Router) Put(ctx context.Context, tenant string, rt Route, key string, write func(io.Writer) error, opts *blob.WriterOptions) (Location, error) {
	var failures []error
	for i, id := range r.order(rt) {
		b, err := r.Bucket(ctx, tenant, id)
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", r.name(id), err))
			continue
		}
		if err := r.putWithRetries(ctx, id, b, key, write, opts); err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", r.name(id), err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		return Location{Destination: id, Key: key, Failover: i > 0 || id != rt.Primary}, nil
	}
	return Location{}, fmt.Errorf("destinations: write %s: %w", key, errors.Join(failures...))
}

func (r *Router) putWithRetries(ctx context.Context, id string, b *blob.Bucket, key string, write func(io.Writer) error, opts *blob.WriterOptions) error {
	wait := r.o.Backoff
	var err error
	for attempt := 1; attempt <= r.o.Attempts; attempt++ {
		start := time.Now()
		err = objects.Put(ctx, b, key, write, opts)
		r.observe(ctx, id, time.Since(start), err)
		if err == nil || !retryable(err) || attempt == r.o.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	return err
}

// retryable reports errors worth another attempt at the same destination;
// a refused permission or a missing bucket will not fix itself.
func retryable(err error) bool {
	switch gcerrors.Code(err) {
	case gcerrors.PermissionDenied, gcerrors.NotFound, gcerrors.InvalidArgument, gcerrors.FailedPrecondition, gcerrors.Canceled:
		return false
	}
	return !errors.Is(err, context.Canceled)
}

func (r *Router) observe(ctx context.Context, id string, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.health[id]
	if !ok {
		h = &Health{Destination: id, Name: r.o.PlatformName, Provider: "platform", Healthy: true}
		r.health[id] = h
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	metrics.Default().DestinationWrite(ctx, h.Provider, outcome, took)
	h.Writes++
	if h.Latency == 0 {
		h.Latency = took
	} else {
		h.Latency = (h.Latency*7 + took) / 8
	}
	if err != nil {
		h.Errors++
		h.Consecutive++
		h.LastError, h.LastErrorAt = err.Error(), time.Now().UTC()
		if h.Consecutive >= unhealthyAfter {
			h.Healthy = false
		}
		return
	}
	h.Consecutive, h.Healthy = 0, true
}

func (r *Router) name(id string) string {
	if id == Platform {
		return r.o.PlatformName
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.health[id]; ok && h.Name != "" {
		return h.Name + " (" + id + ")"
	}
	return id
}

// Health returns a snapshot of every destination the router has used, in id order.
func (r *Router) Health() []Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Health, 0, len(r.health))
	for _, h := range r.health {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}

// SignedURL returns a time-limited GET URL for a location: Cloud Storage V4
// signing, an S3 presigned URL or an Azure SAS, as the provider offers. An
// error with gcerrors.Unimplemented means the store cannot sign (the local
// file driver, a credential without a signing key).
func (r *Router) SignedURL(ctx context.Context, tenant string, loc Location, expiry time.Duration) (string, error) {
	b, err := r.Bucket(ctx, tenant, loc.Destination)
	if err != nil {
		return "", err
	}
	return b.SignedURL(ctx, loc.Key, &blob.SignedURLOptions{Method: "GET", Expiry: expiry, BeforeSign: V4})
}

// V4 makes a Cloud Storage signed URL use the V4 scheme (gcsblob signs V2
// unless told; V2 is the legacy scheme). Other providers ignore it.
func V4(as func(any) bool) error {
	var o *storage.SignedURLOptions
	if as(&o) && o != nil {
		o.Scheme = storage.SigningSchemeV4
	}
	return nil
}
