package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/api/cloudkms/v1"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/errs"
)

// Signers of checkpoints: a local Ed25519 note key in embedded mode (the
// secret SigningKeySecret), a Cloud KMS Ed25519 key in the cloud, where the
// private key never leaves KMS. Both are note.Signer, so the log does not
// know which it has, and both verify with an ordinary note verifier key.

// LocalSigner parses a note private key (the SigningKeySecret secret) and
// returns its signer and its verifier key.
func LocalSigner(skey []byte) (note.Signer, string, error) {
	s, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, "", errs.Errorf(errs.InvalidArgument, "audit: the %s secret is not a note private key (make one with `synthos audit keygen`): %w", SigningKeySecret, err)
	}
	// The verifier key is the public half; note keeps it in the private
	// key's encoding, so derive it from the seed.
	// (PRIVATE+KEY+name+hash+base64: the base64 may itself hold "+").
	parts := strings.SplitN(strings.TrimSpace(string(skey)), "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, "", errs.Errorf(errs.InvalidArgument, "audit: the %s secret is not an Ed25519 note key", SigningKeySecret)
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, "", errs.Errorf(errs.InvalidArgument, "audit: verifier of %s: %w", SigningKeySecret, err)
	}
	return s, vkey, nil
}

// KMSSigner signs with a Cloud KMS asymmetric key version of algorithm
// EC_SIGN_ED25519 (asymmetricSign with the message as data: pure EdDSA, the
// signature note expects).
type KMSSigner struct {
	name    string
	hash    uint32
	version string
	vkey    string
	svc     *cloudkms.Service
	timeout time.Duration
}

// NewKMSSigner reads the public key of version (projects/P/locations/L/
// keyRings/R/cryptoKeys/K/cryptoKeyVersions/N) and returns a signer whose
// note key name is name. opts reach the KMS client (an endpoint in tests).
func NewKMSSigner(ctx context.Context, name, version string, opts ...option.ClientOption) (*KMSSigner, error) {
	svc, err := cloudkms.NewService(ctx, opts...)
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "audit: KMS client: %w", err)
	}
	pk, err := svc.Projects.Locations.KeyRings.CryptoKeys.CryptoKeyVersions.GetPublicKey(version).Context(ctx).Do()
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "audit: public key of %s: %w", version, err)
	}
	if pk.Algorithm != "EC_SIGN_ED25519" {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: KMS key %s is %s; checkpoints need an EC_SIGN_ED25519 key", version, pk.Algorithm)
	}
	blk, _ := pem.Decode([]byte(pk.Pem))
	if blk == nil {
		return nil, errs.Errorf(errs.Internal, "audit: public key of %s is not PEM", version)
	}
	anyPub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, errs.Errorf(errs.Internal, "audit: public key of %s: %w", version, err)
	}
	pub, ok := anyPub.(ed25519.PublicKey)
	if !ok {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: public key of %s is not Ed25519", version)
	}
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: key name %q: %w", name, err)
	}
	return &KMSSigner{name: name, hash: keyHash(name, append([]byte{1}, pub...)), version: version, vkey: vkey, svc: svc, timeout: 30 * time.Second}, nil
}

// keyHash is note's key hash: the first four bytes of SHA-256 of the name,
// a newline and the typed public key.
func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Name is the key's name in signature lines.
func (s *KMSSigner) Name() string { return s.name }

// KeyHash is the key's note hash.
func (s *KMSSigner) KeyHash() uint32 { return s.hash }

// VerifierKey is the note verifier key of the KMS key.
func (s *KMSSigner) VerifierKey() string { return s.vkey }

// Sign asks KMS to sign msg.
func (s *KMSSigner) Sign(msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	resp, err := s.svc.Projects.Locations.KeyRings.CryptoKeys.CryptoKeyVersions.AsymmetricSign(s.version,
		&cloudkms.AsymmetricSignRequest{Data: base64.StdEncoding.EncodeToString(msg)}).Context(ctx).Do()
	if err != nil {
		return nil, fmt.Errorf("audit: KMS asymmetricSign %s: %w", s.version, err)
	}
	sig, err := base64.StdEncoding.DecodeString(resp.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("audit: KMS asymmetricSign %s returned no Ed25519 signature", s.version)
	}
	return sig, nil
}
