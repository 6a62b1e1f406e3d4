package destinations

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/state"
)

// ErrMove reports a residency change that would strand a tenant's data in
// the bucket of its old zone.
var ErrMove = errors.New("tenant data is kept in another zone's bucket")

// PlatformPlacer says where the platform keeps a tenant's input and working
// copies, given the tenant's residency zone ("" for none): with per-zone
// buckets (PlatformBuckets) that is the zone's own bucket.
type PlatformPlacer func(tenantZone string) Placement

// Fixed is the placer of a deployment with one platform bucket.
func Fixed(p Placement) PlatformPlacer { return func(string) Placement { return p } }

// ZoneBucket is the platform bucket of one residency zone.
type ZoneBucket struct {
	Zone   string
	Place  Placement // provider and region, for residency checks
	Bucket *blob.Bucket
}

// ZoneBucketURL is one entry of SYNTHOS_ZONE_BUCKETS: a bucket URL and the
// region it lives in.
type ZoneBucketURL struct {
	Region, URL, Zone string
}

// ParseZoneBuckets reads SYNTHOS_ZONE_BUCKETS, a comma-separated list of
// REGION=URL (e.g. "europe-west1=gs://p-synthos-data-eu,us-central1=gs://p-synthos-data-us"),
// and names each bucket's zone. Zones must be distinct and known, and the
// buckets must be cloud buckets: a local directory has no region.
func ParseZoneBuckets(spec string) ([]ZoneBucketURL, error) {
	var out []ZoneBucketURL
	seen := map[string]string{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		region, raw, ok := strings.Cut(item, "=")
		if !ok || region == "" || raw == "" {
			return nil, fmt.Errorf("%w: %q is not REGION=URL (e.g. europe-west1=gs://my-project-synthos-data-eu)", ErrInvalid, item)
		}
		u, err := url.Parse(raw)
		if err == nil && (u.Scheme == "file" || u.Scheme == "mem") {
			return nil, fmt.Errorf("%w: %q: a zone's bucket must be a cloud bucket (gs://, s3://, azblob://): a local store has no region", ErrInvalid, item)
		}
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%w: %q: %q is not a bucket URL such as gs://bucket", ErrInvalid, item, raw)
		}
		zone, err := ZoneOf(u.Scheme, region)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		if prev, dup := seen[zone]; dup {
			return nil, fmt.Errorf("%w: %s and %s are both in zone %s: one bucket per zone", ErrInvalid, prev, item, zone)
		}
		seen[zone] = item
		out = append(out, ZoneBucketURL{Region: region, URL: raw, Zone: zone})
	}
	return out, nil
}

// TenantResidency returns the residency zone of tenant's own policy ("" for
// none), read straight from the state store: the object router needs it
// where no keyring (and so no Store) exists.
func TenantResidency(ctx context.Context, st state.Store, tenant string) (string, error) {
	var p Policy
	err := st.Get(ctx, PolicyCollection, policyID(tenant, ""), &p)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", fmt.Errorf("destinations: tenant %s residency: %w", tenant, err)
	}
	return p.Residency, nil
}

// PlatformBuckets keeps each residency zone's platform bucket and routes every object
// of a tenant (keys under tenants/<tenant>/) to the bucket of the tenant's
// residency zone, so one deployment serves tenants of several zones while
// each tenant's datasets, working copies, models and reports stay in its
// zone. Tenants without a policy, or whose zone has no bucket, use the
// deployment's own bucket; objects outside tenants/ do too.
//
// The zone of a tenant is cached for TenantZoneTTL: a policy change reaches
// other instances within that time. A change is refused while the tenant
// still has objects in its current bucket (CheckMove), so no object is
// ever left where the new policy forbids it.
type PlatformBuckets struct {
	def    ZoneBucket
	zones  map[string]ZoneBucket
	zoneOf func(ctx context.Context, tenant string) (string, error)
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedZone
}

type cachedZone struct {
	zone string
	at   time.Time
}

// TenantZoneTTL is how long a tenant's zone is cached.
const TenantZoneTTL = 5 * time.Second

// NewPlatformBuckets returns the router over def (the deployment's own bucket) and
// the per-zone buckets; zoneOf gives a tenant's residency zone (see
// TenantResidency). A zone bucket for def's own zone replaces def for that
// zone's tenants.
func NewPlatformBuckets(def ZoneBucket, extra []ZoneBucket, zoneOf func(ctx context.Context, tenant string) (string, error)) *PlatformBuckets {
	z := &PlatformBuckets{def: def, zones: map[string]ZoneBucket{}, zoneOf: zoneOf, now: time.Now, cache: map[string]cachedZone{}}
	for _, zb := range extra {
		z.zones[zb.Zone] = zb
	}
	return z
}

// Placement is where a tenant with residency tenantZone has its input and
// working copies kept.
func (z *PlatformBuckets) Placement(tenantZone string) Placement {
	if zb, ok := z.zones[tenantZone]; ok {
		return zb.Place
	}
	return z.def.Place
}

// List returns the deployment's zone buckets, sorted by zone (for /readyz).
func (z *PlatformBuckets) List() []Placement {
	out := make([]Placement, 0, len(z.zones))
	keys := make([]string, 0, len(z.zones))
	for k := range z.zones {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, z.zones[k].Place)
	}
	return out
}

// Forget drops tenant's cached zone, after this instance changed its policy.
func (z *PlatformBuckets) Forget(tenant string) {
	z.mu.Lock()
	delete(z.cache, tenant)
	z.mu.Unlock()
}

func (z *PlatformBuckets) tenantZone(ctx context.Context, tenant string) (string, error) {
	z.mu.Lock()
	c, ok := z.cache[tenant]
	z.mu.Unlock()
	if ok && z.now().Sub(c.at) < TenantZoneTTL {
		return c.zone, nil
	}
	zone, err := z.zoneOf(ctx, tenant)
	if err != nil {
		return "", err
	}
	z.mu.Lock()
	z.cache[tenant] = cachedZone{zone: zone, at: z.now()}
	z.mu.Unlock()
	return zone, nil
}

func (z *PlatformBuckets) bucketForZone(zone string) ZoneBucket {
	if zb, ok := z.zones[zone]; ok {
		return zb
	}
	return z.def
}

// tenantOf returns the tenant a key belongs to ("" for platform keys).
func tenantOf(key string) string {
	rest, ok := strings.CutPrefix(key, "tenants/")
	if !ok {
		return ""
	}
	t, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return t
}

func (z *PlatformBuckets) route(ctx context.Context, key string) (*blob.Bucket, error) {
	t := tenantOf(key)
	if t == "" {
		return z.def.Bucket, nil
	}
	zone, err := z.tenantZone(ctx, t)
	if err != nil {
		return nil, err
	}
	return z.bucketForZone(zone).Bucket, nil
}

// CheckMove refuses to move tenant to residency newZone while it has
// objects in a bucket the new zone does not use: they would stay behind,
// outside the zone the tenant asked for. The error names the bucket.
func (z *PlatformBuckets) CheckMove(ctx context.Context, tenant, newZone string) error {
	target := z.bucketForZone(newZone)
	for _, zb := range append([]ZoneBucket{z.def}, z.sortedZones()...) {
		if zb.Bucket == target.Bucket {
			continue
		}
		it := zb.Bucket.List(&blob.ListOptions{Prefix: "tenants/" + tenant + "/"})
		_, err := it.Next(ctx)
		if err == io.EOF {
			continue
		}
		if err != nil {
			return fmt.Errorf("destinations: list tenant objects in %s: %w", zb.Place.Name, err)
		}
		return fmt.Errorf("%w: the tenant's datasets and job files are in %s (%s %s); delete them (or export and delete them) before changing the residency to %q",
			ErrMove, zb.Place.Name, zb.Place.Provider, zb.Place.Region, newZone)
	}
	return nil
}

func (z *PlatformBuckets) sortedZones() []ZoneBucket {
	keys := make([]string, 0, len(z.zones))
	for k := range z.zones {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ZoneBucket, 0, len(keys))
	for _, k := range keys {
		out = append(out, z.zones[k])
	}
	return out
}

// Bucket returns a bucket that routes each key to its tenant's zone bucket.
// Closing it closes every zone bucket and the deployment's own.
func (z *PlatformBuckets) Bucket() *blob.Bucket { return blob.NewBucket(&zoneDriver{z: z}) }

// zoneDriver is a gocloud.dev driver over the portable buckets of PlatformBuckets.
type zoneDriver struct{ z *PlatformBuckets }

func (d *zoneDriver) ErrorCode(err error) gcerrors.ErrorCode { return gcerrors.Code(err) }
func (d *zoneDriver) As(i any) bool                          { return d.z.def.Bucket.As(i) }
func (d *zoneDriver) ErrorAs(err error, i any) bool          { return errors.As(err, i) }

func (d *zoneDriver) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	b, err := d.z.route(ctx, key)
	if err != nil {
		return nil, err
	}
	a, err := b.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition, ContentEncoding: a.ContentEncoding,
		ContentLanguage: a.ContentLanguage, ContentType: a.ContentType, Metadata: a.Metadata,
		CreateTime: a.CreateTime, ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag, AsFunc: a.As,
	}, nil
}

// ListPaged lists one tenant's bucket when the prefix names a tenant (every
// listing the platform makes does); otherwise it merges every bucket's
// listing into one page.
func (d *zoneDriver) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	lo := &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter, BeforeList: opts.BeforeList}
	if t := tenantOf(opts.Prefix); t != "" {
		b, err := d.z.route(ctx, opts.Prefix)
		if err != nil {
			return nil, err
		}
		token := opts.PageToken
		if len(token) == 0 {
			token = blob.FirstPageToken
		}
		objs, next, err := b.ListPage(ctx, token, pageSize(opts.PageSize), lo)
		if err != nil {
			return nil, err
		}
		return &driver.ListPage{Objects: listObjects(objs), NextPageToken: next}, nil
	}
	if len(opts.PageToken) > 0 {
		return &driver.ListPage{}, nil // the merged listing is one page
	}
	seen := map[string]bool{}
	var all []*driver.ListObject
	for _, zb := range append([]ZoneBucket{d.z.def}, d.z.sortedZones()...) {
		it := zb.Bucket.List(lo)
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			if seen[o.Key] {
				continue // a common prefix ("tenants/") every bucket has
			}
			seen[o.Key] = true
			all = append(all, &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir, AsFunc: o.As})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	return &driver.ListPage{Objects: all}, nil
}

func pageSize(n int) int {
	if n <= 0 {
		return 1000
	}
	return n
}

func listObjects(objs []*blob.ListObject) []*driver.ListObject {
	out := make([]*driver.ListObject, len(objs))
	for i, o := range objs {
		out[i] = &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir, AsFunc: o.As}
	}
	return out
}

func (d *zoneDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	b, err := d.z.route(ctx, key)
	if err != nil {
		return nil, err
	}
	r, err := b.NewRangeReader(ctx, key, offset, length, &blob.ReaderOptions{BeforeRead: opts.BeforeRead})
	if err != nil {
		return nil, err
	}
	return zoneReader{r}, nil
}

type zoneReader struct{ r *blob.Reader }

func (r zoneReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r zoneReader) Close() error               { return r.r.Close() }
func (r zoneReader) As(i any) bool              { return r.r.As(i) }
func (r zoneReader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

func (d *zoneDriver) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	b, err := d.z.route(ctx, key)
	if err != nil {
		return nil, err
	}
	return b.NewWriter(ctx, key, &blob.WriterOptions{
		BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency, CacheControl: opts.CacheControl,
		ContentDisposition: opts.ContentDisposition, ContentEncoding: opts.ContentEncoding,
		ContentLanguage: opts.ContentLanguage, ContentType: contentType, ContentMD5: opts.ContentMD5,
		Metadata: opts.Metadata, BeforeWrite: opts.BeforeWrite, IfNotExist: opts.IfNotExist,
		// The portable layer in front of this driver already detected the
		// content type; the zone bucket must not guess again.
		DisableContentTypeDetection: true,
	})
}

// Copy copies inside the zone bucket when both keys live there, and
// streams across buckets otherwise.
func (d *zoneDriver) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	src, err := d.z.route(ctx, srcKey)
	if err != nil {
		return err
	}
	dst, err := d.z.route(ctx, dstKey)
	if err != nil {
		return err
	}
	if src == dst {
		return src.Copy(ctx, dstKey, srcKey, &blob.CopyOptions{BeforeCopy: opts.BeforeCopy})
	}
	r, err := src.NewReader(ctx, srcKey, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := dst.NewWriter(cctx, dstKey, &blob.WriterOptions{ContentType: r.ContentType()})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // abort: no half-copied object
		_ = w.Close()
		return err
	}
	return w.Close()
}

func (d *zoneDriver) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	b, err := d.z.route(ctx, key)
	if err != nil {
		return err
	}
	return b.Delete(ctx, key)
}

func (d *zoneDriver) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	b, err := d.z.route(ctx, key)
	if err != nil {
		return "", err
	}
	return b.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: opts.Expiry, Method: opts.Method,
		ContentType: opts.ContentType, EnforceAbsentContentType: opts.EnforceAbsentContentType, BeforeSign: opts.BeforeSign})
}

func (d *zoneDriver) Close() error {
	var errs []error
	for _, zb := range append([]ZoneBucket{d.z.def}, d.z.sortedZones()...) {
		if err := zb.Bucket.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
