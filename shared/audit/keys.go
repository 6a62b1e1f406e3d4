package audit

import (
	"context"
	"crypto/rand"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/secrets"
)

// Keys are the checkpoint signer and the verifier key customers pin.
type Keys struct {
	Signer      note.Signer
	VerifierKey string
}

// Verifier returns the note verifier of k.
func (k Keys) Verifier() (note.Verifier, error) {
	v, err := note.NewVerifier(k.VerifierKey)
	if err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: verifier key %q: %w", k.VerifierKey, err)
	}
	return v, nil
}

// DefaultKeyName names checkpoint keys unless SYNTHOS_AUDIT_KEY_NAME says
// otherwise.
const DefaultKeyName = "synthos-audit"

// OpenKeys returns the checkpoint keys: the Cloud KMS key version kmsKey
// when set (the cloud), else the note private key in the secret
// SigningKeySecret (embedded mode; `synthos serve` creates one).
func OpenKeys(ctx context.Context, kmsKey, keyName string, src secrets.Source) (Keys, error) {
	if keyName == "" {
		keyName = DefaultKeyName
	}
	if kmsKey != "" {
		s, err := NewKMSSigner(ctx, keyName, kmsKey)
		if err != nil {
			return Keys{}, err
		}
		return Keys{Signer: s, VerifierKey: s.VerifierKey()}, nil
	}
	if src == nil {
		return Keys{}, errs.Errorf(errs.FailedPrecondition, "audit: no secrets source for the %s secret", SigningKeySecret)
	}
	skey, err := src.Get(ctx, SigningKeySecret)
	if err != nil {
		return Keys{}, fmt.Errorf("audit: read the %s secret (locally `synthos serve` creates it; in the cloud set SYNTHOS_AUDIT_KMS_KEY): %w", SigningKeySecret, err)
	}
	s, vkey, err := LocalSigner(skey)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Signer: s, VerifierKey: vkey}, nil
}

// GenerateKey returns a new note private key named name, and its verifier
// key, for the SigningKeySecret secret.
func GenerateKey(name string) (skey, vkey string, err error) {
	if name == "" {
		name = DefaultKeyName
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", errs.Errorf(errs.InvalidArgument, "audit: key name %q: %w", name, err)
	}
	return skey, vkey, nil
}
