// Package destinations lets a tenant store inputs and outputs in buckets of
// its own — Cloud Storage, S3 or Azure Blob — instead of the platform's.
//
// A Destination names a bucket by URL, the region it lives in, and a
// credential that is stored sealed (encrypted under a key from the secrets
// adapter), never in clear in the state store. Registration verifies it by
// writing, reading and deleting a probe object, so a missing permission is
// reported when the tenant registers the bucket, naming the permission,
// rather than at the end of a job. Residency (residency.go) refuses jobs
// whose reads or writes would leave a required zone, and the Router
// (router.go) writes to a policy's primary destination, fails over to its
// secondary and tracks each destination's health.
package destinations

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Collection holds the registered destinations, one document per id.
const Collection = "destinations"

// Errors callers act on.
var (
	ErrInvalid   = errs.New(errs.InvalidArgument, "invalid destination")
	ErrNotFound  = errs.New(errs.NotFound, "destination not found")
	ErrVerify    = errs.New(errs.FailedPrecondition, "destination verification failed")
	ErrResidency = errs.New(errs.FailedPrecondition, "data residency policy violated")
)

// Destination is a bucket a tenant registered.
type Destination struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Name is the tenant's label ("eu-archive").
	Name string `json:"name"`
	// URL is gs://BUCKET[/PREFIX], s3://BUCKET[/PREFIX] or
	// azblob://CONTAINER[/PREFIX]; objects are written under PREFIX.
	URL string `json:"url"`
	// Region is where the bucket lives ("europe-west1", "eu-west-1",
	// "westeurope", or a multi-region such as "EU").
	Region string `json:"region"`
	// Endpoint overrides the provider's endpoint (an S3-compatible store,
	// an Azure account URL); accepted only where the operator allows it.
	Endpoint string `json:"endpoint,omitempty"`
	// SealedCredential is the credential, sealed; never returned by the API.
	SealedCredential []byte `json:"sealed_credential,omitempty"`
	// CredentialKind says what the credential is, without revealing it.
	CredentialKind string    `json:"credential_kind,omitempty"`
	Created        time.Time `json:"created"`
	VerifiedAt     time.Time `json:"verified_at,omitzero"`
}

// Provider is the URL's scheme: gs, s3, azblob (file and mem for local runs).
func (d Destination) Provider() string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return ""
	}
	return u.Scheme
}

// Bucket and Prefix split the URL.
func (d Destination) Bucket() string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Prefix is the key prefix objects are written under ("" or "a/b/").
func (d Destination) Prefix() string {
	u, err := url.Parse(d.URL)
	if err != nil {
		return ""
	}
	p := strings.Trim(u.Path, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// Credential is what a destination is reached with. Exactly the fields of
// one provider are set.
type Credential struct {
	// Cloud Storage: a service-account key or a workload identity
	// federation (external_account) configuration, as JSON.
	GoogleCredentialsJSON json.RawMessage `json:"google_credentials_json,omitempty"`
	// S3: an access key (and session token), or a role to assume with the
	// platform's own AWS identity.
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	RoleARN         string `json:"role_arn,omitempty"`
	ExternalID      string `json:"external_id,omitempty"`
	// Azure: a connection string (account key) or a container SAS URL.
	ConnectionString string `json:"connection_string,omitempty"`
	SASURL           string `json:"sas_url,omitempty"`
}

// Kind names the credential's type for display.
func (c Credential) Kind() string {
	switch {
	case len(c.GoogleCredentialsJSON) > 0:
		var head struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(c.GoogleCredentialsJSON, &head)
		if head.Type == "" {
			return "google_credentials"
		}
		return head.Type
	case c.RoleARN != "":
		return "aws_role"
	case c.AccessKeyID != "":
		return "aws_access_key"
	case c.ConnectionString != "":
		return "azure_connection_string"
	case c.SASURL != "":
		return "azure_sas"
	}
	return "none"
}

// check reports a credential that does not fit the provider.
func (c Credential) check(provider string) error {
	set := 0
	for _, b := range []bool{len(c.GoogleCredentialsJSON) > 0, c.AccessKeyID != "" || c.RoleARN != "", c.ConnectionString != "" || c.SASURL != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("%w: credential: give the fields of one provider only", ErrInvalid)
	}
	switch provider {
	case "gs":
		if len(c.GoogleCredentialsJSON) > 0 {
			var head struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(c.GoogleCredentialsJSON, &head); err != nil {
				return fmt.Errorf("%w: credential.google_credentials_json is not JSON: %v", ErrInvalid, err)
			}
			if head.Type != "service_account" && head.Type != "external_account" {
				return fmt.Errorf("%w: credential.google_credentials_json: type %q is not service_account or external_account", ErrInvalid, head.Type)
			}
		} else if set > 0 {
			return fmt.Errorf("%w: credential: a gs:// destination takes google_credentials_json", ErrInvalid)
		}
	case "s3":
		if c.AccessKeyID != "" && c.SecretAccessKey == "" {
			return fmt.Errorf("%w: credential.secret_access_key is required with access_key_id", ErrInvalid)
		}
		if set > 0 && c.AccessKeyID == "" && c.RoleARN == "" {
			return fmt.Errorf("%w: credential: an s3:// destination takes access_key_id/secret_access_key or role_arn", ErrInvalid)
		}
	case "azblob":
		if c.ConnectionString != "" && c.SASURL != "" {
			return fmt.Errorf("%w: credential: give connection_string or sas_url, not both", ErrInvalid)
		}
		if set > 0 && c.ConnectionString == "" && c.SASURL == "" {
			return fmt.Errorf("%w: credential: an azblob:// destination takes connection_string or sas_url", ErrInvalid)
		}
	}
	return nil
}

// Sealer encrypts credentials at rest under the tenant's own key, bound to
// additional data (the destination id) so that a sealed value copied onto
// another destination does not open. *keyring.Keyring is one: deleting a
// tenant's keys then also shreds its destinations' credentials.
type Sealer interface {
	Encrypt(ctx context.Context, tenant string, plain, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// Store keeps destinations in the state store.
type Store struct {
	st    state.Store
	seal  Sealer
	local bool // accept file:// and mem:// (embedded mode and tests)
	now   func() time.Time
}

// StoreOptions configure a Store.
type StoreOptions struct {
	// AllowLocal accepts file:// and mem:// destinations (a laptop's own
	// directory under `synthos serve`, tests). Never in the cloud.
	AllowLocal bool
}

// NewStore returns a Store over st sealing credentials with seal.
func NewStore(st state.Store, seal Sealer, o StoreOptions) (*Store, error) {
	if st == nil || seal == nil {
		return nil, errors.New("destinations.NewStore: state store and sealer are required")
	}
	return &Store{st: st, seal: seal, local: o.AllowLocal, now: time.Now}, nil
}

// Spec is what a tenant registers.
type Spec struct {
	Name       string     `json:"name"`
	URL        string     `json:"url"`
	Region     string     `json:"region"`
	Endpoint   string     `json:"endpoint,omitempty"`
	Credential Credential `json:"credential"`
}

// Validate checks a spec without touching the bucket.
func (s *Store) Validate(sp Spec) error {
	if strings.TrimSpace(sp.Name) == "" || len(sp.Name) > 100 {
		return fmt.Errorf("%w: name is required (at most 100 characters)", ErrInvalid)
	}
	u, err := url.Parse(sp.URL)
	if err != nil || u.Host == "" && u.Scheme != "mem" && u.Scheme != "file" {
		return fmt.Errorf("%w: url %q: want gs://BUCKET, s3://BUCKET or azblob://CONTAINER", ErrInvalid, sp.URL)
	}
	switch u.Scheme {
	case "gs", "s3", "azblob":
	case "file", "mem":
		if !s.local {
			return fmt.Errorf("%w: url %q: %s:// destinations are only for local runs", ErrInvalid, sp.URL, u.Scheme)
		}
	default:
		return fmt.Errorf("%w: url %q: scheme %q is not gs, s3 or azblob", ErrInvalid, sp.URL, u.Scheme)
	}
	if u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%w: url %q: no query or user part (give the region and credential as fields)", ErrInvalid, sp.URL)
	}
	if _, err := ZoneOf(u.Scheme, sp.Region); err != nil {
		return err
	}
	if sp.Endpoint != "" {
		e, err := url.Parse(sp.Endpoint)
		if err != nil || (e.Scheme != "https" && !(s.local && e.Scheme == "http")) || e.Host == "" {
			return fmt.Errorf("%w: endpoint %q must be an https URL", ErrInvalid, sp.Endpoint)
		}
	}
	return sp.Credential.check(u.Scheme)
}

// Create validates sp, seals its credential and stores a new destination.
// It does not verify access: call Verify first (the API does both).
func (s *Store) Create(ctx context.Context, tenant string, sp Spec) (Destination, error) {
	if err := s.Validate(sp); err != nil {
		return Destination{}, err
	}
	id, err := newID()
	if err != nil {
		return Destination{}, err
	}
	d := Destination{
		ID: id, Tenant: tenant, Name: strings.TrimSpace(sp.Name), URL: strings.TrimRight(sp.URL, "/"),
		Region: sp.Region, Endpoint: sp.Endpoint, CredentialKind: sp.Credential.Kind(), Created: s.now().UTC(),
	}
	if d.CredentialKind != "none" {
		plain, err := json.Marshal(sp.Credential)
		if err != nil {
			return Destination{}, fmt.Errorf("destinations: encode credential: %w", err)
		}
		if d.SealedCredential, err = s.seal.Encrypt(ctx, tenant, plain, []byte(d.ID)); err != nil {
			return Destination{}, fmt.Errorf("destinations: seal credential: %w", err)
		}
	}
	if err := s.st.Create(ctx, Collection, d.ID, d); err != nil {
		return Destination{}, fmt.Errorf("destinations: store %s: %w", d.ID, err)
	}
	return d, nil
}

// MarkVerified records a successful verification.
func (s *Store) MarkVerified(ctx context.Context, d *Destination) error {
	d.VerifiedAt = s.now().UTC()
	if err := s.st.Set(ctx, Collection, d.ID, d); err != nil {
		return fmt.Errorf("destinations: store %s: %w", d.ID, err)
	}
	return nil
}

// Get returns tenant's destination id; another tenant's is ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, id string) (Destination, error) {
	var d Destination
	if err := s.st.Get(ctx, Collection, id, &d); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return Destination{}, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return Destination{}, fmt.Errorf("destinations: get %s: %w", id, err)
	}
	if d.Tenant != tenant {
		return Destination{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return d, nil
}

// List returns tenant's destinations in id order.
func (s *Store) List(ctx context.Context, tenant string) ([]Destination, error) {
	docs, err := s.st.Query(ctx, Collection, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}}})
	if err != nil {
		return nil, fmt.Errorf("destinations: list: %w", err)
	}
	out := make([]Destination, 0, len(docs))
	for _, doc := range docs {
		var d Destination
		if err := doc.DataTo(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Delete removes tenant's destination id. Objects already written stay.
func (s *Store) Delete(ctx context.Context, tenant, id string) error {
	if _, err := s.Get(ctx, tenant, id); err != nil {
		return err
	}
	if err := s.st.Delete(ctx, Collection, id); err != nil {
		return fmt.Errorf("destinations: delete %s: %w", id, err)
	}
	return nil
}

// Credential unseals d's credential.
func (s *Store) Credential(ctx context.Context, d Destination) (Credential, error) {
	var c Credential
	if len(d.SealedCredential) == 0 {
		return c, nil
	}
	plain, err := s.seal.Decrypt(ctx, d.Tenant, d.SealedCredential, []byte(d.ID))
	if err != nil {
		return c, fmt.Errorf("destinations: open the credential of %s: %w", d.ID, err)
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("destinations: decode the credential of %s: %w", d.ID, err)
	}
	return c, nil
}

func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("destinations: id: %w", err)
	}
	return "dst_" + hex.EncodeToString(b[:]), nil
}
