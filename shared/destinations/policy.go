package destinations

import (
	"context"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/state"
)

// PolicyCollection holds storage policies: one per tenant (id = tenant)
// and one per dataset (id = tenant + "~" + dataset).
const PolicyCollection = "storage_policies"

// Policy says where a tenant's (or one dataset's) jobs write and which
// residency zone every read and write must stay in.
type Policy struct {
	// Residency is a zone (see Zones) or "" for none.
	Residency string `json:"residency,omitempty"`
	// Primary and Secondary are destination ids; "" is the platform bucket.
	Primary   string `json:"primary,omitempty"`
	Secondary string `json:"secondary,omitempty"`
	// HasSecondary says Secondary was set (it may name the platform bucket).
	HasSecondary bool `json:"has_secondary,omitempty"`
}

func policyID(tenant, dataset string) string {
	if dataset == "" {
		return tenant
	}
	return tenant + "~" + dataset
}

// SetPolicy stores tenant's policy (dataset "" for the tenant-wide one)
// after checking that its destinations exist and are inside its zone.
func (s *Store) SetPolicy(ctx context.Context, tenant, dataset string, p Policy) error {
	if err := CheckZone(p.Residency); err != nil {
		return err
	}
	var places []Placement
	for _, id := range []string{p.Primary, p.Secondary} {
		if id == "" {
			continue
		}
		d, err := s.Get(ctx, tenant, id)
		if err != nil {
			return err
		}
		places = append(places, Placement{What: "output", Name: d.Name, Provider: d.Provider(), Region: d.Region})
	}
	if err := CheckResidency(p.Residency, places...); err != nil {
		return err
	}
	p.HasSecondary = p.HasSecondary || p.Secondary != ""
	if err := s.st.Set(ctx, PolicyCollection, policyID(tenant, dataset), p); err != nil {
		return fmt.Errorf("destinations: store policy: %w", err)
	}
	return nil
}

// GetPolicy returns the stored policy; none stored is the zero Policy.
func (s *Store) GetPolicy(ctx context.Context, tenant, dataset string) (Policy, error) {
	var p Policy
	err := s.st.Get(ctx, PolicyCollection, policyID(tenant, dataset), &p)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return p, fmt.Errorf("destinations: get policy: %w", err)
	}
	return p, nil
}

// JobPlacement is what PlanJob decides for one job.
type JobPlacement struct {
	Route     Route  `json:"route"`
	Residency string `json:"residency,omitempty"`
}

// PlanJob chooses a job's route — the request's own destinations, else the
// dataset's policy, else the tenant's, else the platform bucket — and
// checks that the platform bucket (where the input and working copies
// live) and every destination are inside the residency zone of the dataset
// or the tenant. A job that would leave its zone is refused here, before
// anything is reserved, with an error wrapping ErrResidency.
func (s *Store) PlanJob(ctx context.Context, tenant, dataset, primary, secondary string, platform PlatformPlacer) (JobPlacement, error) {
	tp, err := s.GetPolicy(ctx, tenant, "")
	if err != nil {
		return JobPlacement{}, err
	}
	dp, err := s.GetPolicy(ctx, tenant, dataset)
	if err != nil {
		return JobPlacement{}, err
	}
	zone := tp.Residency
	if dp.Residency != "" {
		if zone != "" && zone != dp.Residency {
			return JobPlacement{}, fmt.Errorf("%w: dataset %s requires residency %s but the tenant requires %s", ErrResidency, dataset, dp.Residency, zone)
		}
		zone = dp.Residency
	}
	var rt Route
	switch {
	case primary != "" || secondary != "":
		rt = Route{Primary: primary, Secondary: secondary, HasSecondary: secondary != ""}
	case dp != (Policy{Residency: dp.Residency}):
		rt = Route{Primary: dp.Primary, Secondary: dp.Secondary, HasSecondary: dp.HasSecondary}
	default:
		rt = Route{Primary: tp.Primary, Secondary: tp.Secondary, HasSecondary: tp.HasSecondary}
	}
	// The working copies live in the bucket of the tenant's own zone.
	places := []Placement{platform(tp.Residency)}
	for i, id := range []string{rt.Primary, rt.Secondary} {
		if id == Platform {
			continue
		}
		d, err := s.Get(ctx, tenant, id)
		if err != nil {
			return JobPlacement{}, err
		}
		what := "output"
		if i == 1 {
			what = "secondary output"
		}
		places = append(places, Placement{What: what, Name: d.Name, Provider: d.Provider(), Region: d.Region})
	}
	if err := CheckResidency(zone, places...); err != nil {
		return JobPlacement{}, err
	}
	return JobPlacement{Route: rt, Residency: zone}, nil
}
