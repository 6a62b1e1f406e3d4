package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/keyring"
)

// Encryption at rest and tenant deletion (admin scope): a tenant's option
// to encrypt its datasets and models, rotation of its keys, and deletion of
// the tenant, which destroys its keys first (crypto-shredding: whatever was
// encrypted for it, in the bucket or in any backup, becomes unreadable).

func (s *Service) keys(ctx context.Context) (*keyring.Keyring, error) {
	k, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, &CodedError{Code: "unavailable", Kind: ErrUnavailable,
			Msg: "encryption at rest is not configured in this deployment (SYNTHOS_KEK_URI)"}
	}
	return k, nil
}

// classifyKeys maps keyring errors to this package's sentinels.
func classifyKeys(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrDestroyed):
		return &CodedError{Code: "tenant_deleted", Kind: ErrConflict, Msg: "this tenant was deleted and its keys destroyed"}
	case errs.CodeOf(err) == errs.Unavailable:
		return unavailable("the encryption keys are unavailable", err)
	}
	return err
}

// Encryption returns the caller's encryption state.
func (s *Service) Encryption(ctx context.Context, p *apikeys.Principal) (keyring.Status, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return keyring.Status{}, err
	}
	st, err := k.Status(ctx, p.Tenant)
	return st, classifyKeys(err)
}

// SetEncryption turns encryption of the caller's datasets and models at
// rest on or off for what is stored from now on.
func (s *Service) SetEncryption(ctx context.Context, p *apikeys.Principal, on bool) (keyring.Status, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return keyring.Status{}, err
	}
	if err := k.SetEncryptData(ctx, p.Tenant, on); err != nil {
		return keyring.Status{}, classifyKeys(err)
	}
	s.emit(ctx, p, "encryption.updated", "tenant", "success", map[string]string{"encrypt_data": strconv.FormatBool(on)})
	return s.Encryption(ctx, p)
}

// RotateKeys gives the caller's keysets a new primary key; what was
// encrypted before stays readable.
func (s *Service) RotateKeys(ctx context.Context, p *apikeys.Principal) (keyring.Status, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return keyring.Status{}, err
	}
	n, err := k.Rotate(ctx, p.Tenant)
	if err != nil {
		return keyring.Status{}, classifyKeys(err)
	}
	s.emit(ctx, p, "key.rotated", "tenant/keysets", "success", map[string]string{"keys": strconv.Itoa(n)})
	return s.Encryption(ctx, p)
}

// TenantDeletion reports what deleting a tenant did.
type TenantDeletion struct {
	Tenant         string `json:"tenant"`
	KeysDestroyed  bool   `json:"keys_destroyed"`
	APIKeysRevoked int    `json:"api_keys_revoked"`
	ObjectsDeleted int    `json:"objects_deleted"`
}

// DeleteTenant deletes the caller's tenant: confirm must repeat the tenant
// id. The tenant's keys are destroyed first (so even objects that survive in
// backups are unreadable), then its API keys are revoked (including the
// caller's) and its objects deleted. Audit records stay: they hold no
// personal data.
func (s *Service) DeleteTenant(ctx context.Context, p *apikeys.Principal, confirm string) (TenantDeletion, error) {
	if confirm != p.Tenant {
		return TenantDeletion{}, fieldErr("confirm", "must repeat the tenant id (%s) to delete the tenant; this cannot be undone", p.Tenant)
	}
	out := TenantDeletion{Tenant: p.Tenant}
	k, err := s.ring(ctx)
	if err != nil {
		return out, err
	}
	if k != nil {
		if err := k.Destroy(ctx, p.Tenant); err != nil {
			return out, classifyKeys(err)
		}
		out.KeysDestroyed = true
	}
	s.emit(ctx, p, "tenant.deleted", "tenant", "success", map[string]string{"keys_destroyed": strconv.FormatBool(out.KeysDestroyed)})
	recs, err := s.Keys.List(ctx, p.Tenant)
	if err != nil {
		return out, unavailable("listing the tenant's API keys failed", err)
	}
	for _, r := range recs {
		if r.RevokedAt != nil {
			continue
		}
		if err := s.Keys.Revoke(ctx, p.Tenant, r.ID); err != nil {
			return out, unavailable("revoking the tenant's API keys failed", err)
		}
		out.APIKeysRevoked++
	}
	it := s.Bucket.List(&blob.ListOptions{Prefix: datasets.TenantPrefix(p.Tenant)})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return out, unavailable(fmt.Sprintf("deleting the tenant's objects failed after %d", out.ObjectsDeleted), err)
		}
		if err := s.Bucket.Delete(ctx, obj.Key); err != nil {
			return out, unavailable(fmt.Sprintf("deleting the tenant's objects failed after %d", out.ObjectsDeleted), err)
		}
		out.ObjectsDeleted++
	}
	return out, nil
}
