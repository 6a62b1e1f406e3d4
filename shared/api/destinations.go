package api

import (
	"context"
	"fmt"
	"path"
	"strings"

	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/datasets"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/destinations"
)

func (s *Service) destinations() (*destinations.Router, error) {
	if s.Destinations == nil {
		return nil, fmt.Errorf("%w: storage destinations need the platform's keyring to seal their credentials", ErrUnavailable)
	}
	return s.Destinations, nil
}

// CreateDestination registers one of the tenant's buckets after verifying
// it (a probe object written, read back and deleted): a bucket the
// credential cannot use is refused, naming the missing permission, and
// nothing is kept.
func (s *Service) CreateDestination(ctx context.Context, p *apikeys.Principal, sp destinations.Spec) (destinations.Destination, error) {
	r, err := s.destinations()
	if err != nil {
		return destinations.Destination{}, err
	}
	st := r.Store()
	d, err := st.Create(ctx, p.Tenant, sp)
	if err != nil {
		return destinations.Destination{}, err
	}
	if err := s.verifyDestination(ctx, r, &d); err != nil {
		r.Forget(d.ID)
		_ = st.Delete(ctx, p.Tenant, d.ID)
		return destinations.Destination{}, err
	}
	s.emit(ctx, p, "destination.created", d.ID, "success", map[string]string{"provider": d.Provider(), "region": d.Region})
	return redact(d), nil
}

// VerifyDestination checks a registered destination again.
func (s *Service) VerifyDestination(ctx context.Context, p *apikeys.Principal, id string) (destinations.Destination, error) {
	r, err := s.destinations()
	if err != nil {
		return destinations.Destination{}, err
	}
	d, err := r.Store().Get(ctx, p.Tenant, id)
	if err != nil {
		return destinations.Destination{}, err
	}
	r.Forget(id) // reopen with the stored credential
	if err := s.verifyDestination(ctx, r, &d); err != nil {
		return destinations.Destination{}, err
	}
	return redact(d), nil
}

func (s *Service) verifyDestination(ctx context.Context, r *destinations.Router, d *destinations.Destination) error {
	b, err := r.Bucket(ctx, d.Tenant, d.ID)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", destinations.ErrVerify, d.Name, err)
	}
	if err := destinations.Verify(ctx, *d, b); err != nil {
		return err
	}
	return r.Store().MarkVerified(ctx, d)
}

// ListDestinations returns the tenant's destinations (credentials never).
func (s *Service) ListDestinations(ctx context.Context, p *apikeys.Principal) ([]destinations.Destination, error) {
	r, err := s.destinations()
	if err != nil {
		return nil, err
	}
	list, err := r.Store().List(ctx, p.Tenant)
	for i := range list {
		list[i] = redact(list[i])
	}
	return list, err
}

// GetDestination returns one of the tenant's destinations.
func (s *Service) GetDestination(ctx context.Context, p *apikeys.Principal, id string) (destinations.Destination, error) {
	r, err := s.destinations()
	if err != nil {
		return destinations.Destination{}, err
	}
	d, err := r.Store().Get(ctx, p.Tenant, id)
	return redact(d), err
}

// DeleteDestination removes a destination; objects already delivered stay
// in the tenant's bucket.
func (s *Service) DeleteDestination(ctx context.Context, p *apikeys.Principal, id string) error {
	r, err := s.destinations()
	if err != nil {
		return err
	}
	if err := r.Store().Delete(ctx, p.Tenant, id); err != nil {
		return err
	}
	r.Forget(id)
	s.emit(ctx, p, "destination.deleted", id, "success", nil)
	return nil
}

// StoragePolicy returns the tenant's policy (dataset "") or a dataset's.
func (s *Service) StoragePolicy(ctx context.Context, p *apikeys.Principal, dataset string) (destinations.Policy, error) {
	r, err := s.destinations()
	if err != nil {
		return destinations.Policy{}, err
	}
	if dataset != "" {
		if _, err := s.Datasets.Get(ctx, p.Tenant, dataset); err != nil {
			return destinations.Policy{}, err
		}
	}
	return r.Store().GetPolicy(ctx, p.Tenant, dataset)
}

// SetStoragePolicy stores the tenant's policy (dataset "") or a dataset's.
func (s *Service) SetStoragePolicy(ctx context.Context, p *apikeys.Principal, dataset string, pol destinations.Policy) (destinations.Policy, error) {
	r, err := s.destinations()
	if err != nil {
		return destinations.Policy{}, err
	}
	if dataset != "" {
		if _, err := s.Datasets.Get(ctx, p.Tenant, dataset); err != nil {
			return destinations.Policy{}, err
		}
	}
	if dataset == "" && s.Zones != nil {
		// The tenant's residency picks the platform bucket its objects
		// live in: moving zones would leave what it has behind.
		old, err := r.Store().GetPolicy(ctx, p.Tenant, "")
		if err != nil {
			return destinations.Policy{}, err
		}
		if s.Zones.Placement(old.Residency) != s.Zones.Placement(pol.Residency) {
			if err := s.Zones.CheckMove(ctx, p.Tenant, pol.Residency); err != nil {
				return destinations.Policy{}, err
			}
		}
	}
	if err := r.Store().SetPolicy(ctx, p.Tenant, dataset, pol); err != nil {
		return destinations.Policy{}, err
	}
	if dataset == "" && s.Zones != nil {
		s.Zones.Forget(p.Tenant)
	}
	s.emit(ctx, p, "storage_policy.updated", p.Tenant, "success", map[string]string{"dataset": dataset, "residency": pol.Residency})
	return r.Store().GetPolicy(ctx, p.Tenant, dataset)
}

// placement is where the platform keeps the objects of a tenant with
// residency zone.
func (s *Service) placement(zone string) destinations.Placement {
	if s.Placement == nil {
		return destinations.Placement{What: "input and working copies", Name: "the platform bucket"}
	}
	return s.Placement(zone)
}

// redact drops the sealed credential from what the API returns.
func redact(d destinations.Destination) destinations.Destination {
	d.SealedCredential = nil
	return d
}

// ImportDataset reads a table from one of the tenant's storage destinations
// (key inside it) into a new dataset, streaming it through the upload path
// (size limit, encryption at rest, validation). A tenant residency policy
// that the destination or the platform bucket lies outside refuses it
// before a byte is read.
func (s *Service) ImportDataset(ctx context.Context, p *apikeys.Principal, destination, key, name string) (*datasets.Dataset, error) {
	r, err := s.destinations()
	if err != nil {
		return nil, err
	}
	if destination == "" {
		return nil, fieldErr("destination", "is required: the id of a storage destination (GET /v1/destinations)")
	}
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") {
		return nil, fieldErr("key", "must name an object inside the destination, e.g. exports/customers.csv")
	}
	if name == "" {
		name = path.Base(key)
	}
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	d, err := r.Store().Get(ctx, p.Tenant, destination)
	if err != nil {
		return nil, err
	}
	pol, err := r.Store().GetPolicy(ctx, p.Tenant, "")
	if err != nil {
		return nil, err
	}
	if err := destinations.CheckResidency(pol.Residency, s.placement(pol.Residency),
		destinations.Placement{What: "input", Name: d.Name, Provider: d.Provider(), Region: d.Region}); err != nil {
		return nil, err
	}
	id := NewID(ctx, p.Tenant, "dataset", "ds_")
	if ds, err := s.Datasets.Get(ctx, p.Tenant, id); err == nil {
		return s.finish(ctx, p, ds, "import") // re-executed under the same Idempotency-Key
	}
	b, err := r.Bucket(ctx, p.Tenant, destination)
	if err != nil {
		return nil, unavailable("opening the storage destination failed", err)
	}
	rd, err := b.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Details: map[string]any{"field": "key"},
			Msg: fmt.Sprintf("no object %q in destination %s (%s)", key, d.Name, d.URL)}
	}
	if err != nil {
		return nil, unavailable("reading from the storage destination failed", err)
	}
	defer rd.Close()
	ds := &datasets.Dataset{ID: id, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, id, name),
		Format: format, Status: datasets.Validating, CreatedAt: s.Now().UTC()}
	if ds.Size, err = s.putObject(ctx, p.Tenant, ds.Key, rd, s.MaxResumable, "POST /v1/datasets/import"); err != nil {
		return nil, err
	}
	if err := s.Datasets.Create(ctx, ds); err != nil {
		return nil, fmt.Errorf("import %s: %w", id, err)
	}
	s.emit(ctx, p, "dataset.imported", id, "success", map[string]string{"destination": destination})
	return s.finish(ctx, p, ds, "import")
}
