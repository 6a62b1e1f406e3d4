package design

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"synthos.dev/synthos/shared/state"
)

// Collections of saved specs: one document per version, and one head per
// (tenant, name) holding the latest version.
const (
	SpecsCollection = "design_specs"
	HeadsCollection = "design_heads"
)

// Saved is one version of a saved spec.
type Saved struct {
	Tenant    string          `json:"tenant"`
	Name      string          `json:"name"`
	Version   int64           `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	Source    string          `json:"source,omitempty"` // "designed", "profile", "hand"
	Spec      json.RawMessage `json:"spec"`
}

// Head is the latest version of a saved spec.
type Head struct {
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Latest    int64     `json:"latest"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Store saves specs per tenant; every save is a new version, earlier ones
// stay readable.
type Store struct {
	State state.Store
	Now   func() time.Time
}

var specName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

func headID(tenant, name string) string { return tenant + "~" + name }

func versionID(tenant, name string, v int64) string {
	return fmt.Sprintf("%s~%s~%010d", tenant, name, v)
}

// Save validates s and stores it as the next version of tenant's name.
func (st *Store) Save(ctx context.Context, tenant, name, source string, s *Spec) (*Saved, error) {
	if tenant == "" || !specName.MatchString(name) {
		return nil, fmt.Errorf("design: spec name %q: letters, digits, '_', '.', '-', at most 100: %w", name, ErrInvalid)
	}
	if err := Validate(s); err != nil {
		return nil, err
	}
	body, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("design: encode spec: %w", err)
	}
	now := time.Now
	if st.Now != nil {
		now = st.Now
	}
	var out Saved
	err = st.State.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var h Head
		if err := tx.Get(HeadsCollection, headID(tenant, name), &h); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		t := now().UTC()
		out = Saved{Tenant: tenant, Name: name, Version: h.Latest + 1, CreatedAt: t, Source: source, Spec: body}
		if err := tx.Create(SpecsCollection, versionID(tenant, name, out.Version), out); err != nil {
			return err
		}
		return tx.Set(HeadsCollection, headID(tenant, name), Head{Tenant: tenant, Name: name, Latest: out.Version, UpdatedAt: t})
	})
	if err != nil {
		return nil, fmt.Errorf("design: save %s: %w", name, err)
	}
	return &out, nil
}

// Get reads a version (0: the latest) of tenant's spec name.
func (st *Store) Get(ctx context.Context, tenant, name string, version int64) (*Saved, *Spec, error) {
	if !specName.MatchString(name) || tenant == "" {
		return nil, nil, fmt.Errorf("design: spec %q: %w", name, ErrNotFound)
	}
	if version <= 0 {
		var h Head
		if err := st.State.Get(ctx, HeadsCollection, headID(tenant, name), &h); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return nil, nil, fmt.Errorf("design: spec %q: %w", name, ErrNotFound)
			}
			return nil, nil, fmt.Errorf("design: read spec %q: %w", name, err)
		}
		version = h.Latest
	}
	var sv Saved
	if err := st.State.Get(ctx, SpecsCollection, versionID(tenant, name, version), &sv); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, nil, fmt.Errorf("design: spec %q version %d: %w", name, version, ErrNotFound)
		}
		return nil, nil, fmt.Errorf("design: read spec %q: %w", name, err)
	}
	s, err := Parse(sv.Spec)
	if err != nil {
		return nil, nil, err
	}
	return &sv, s, nil
}

// List returns tenant's saved specs with their latest versions.
func (st *Store) List(ctx context.Context, tenant string) ([]Head, error) {
	docs, err := st.State.Query(ctx, HeadsCollection, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}}})
	if err != nil {
		return nil, fmt.Errorf("design: list specs: %w", err)
	}
	out := make([]Head, 0, len(docs))
	for _, d := range docs {
		var h Head
		if err := d.DataTo(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// Versions lists the versions of tenant's spec name, oldest first.
func (st *Store) Versions(ctx context.Context, tenant, name string) ([]Saved, error) {
	docs, err := st.State.Query(ctx, SpecsCollection, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}, {Field: "name", Value: name}}})
	if err != nil {
		return nil, fmt.Errorf("design: list versions: %w", err)
	}
	out := make([]Saved, 0, len(docs))
	for _, d := range docs {
		var sv Saved
		if err := d.DataTo(&sv); err != nil {
			return nil, err
		}
		sv.Spec = nil
		out = append(out, sv)
	}
	return out, nil
}
