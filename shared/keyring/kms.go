package keyring

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strconv"

	"google.golang.org/api/cloudkms/v1"
	"google.golang.org/api/option"
)

// kmsAEAD is Tink's AEAD interface over one Cloud KMS symmetric key,
// through the KMS REST API (google.golang.org/api/cloudkms/v1, the client
// shared/audit's checkpoint signer uses too). It does what
// tink-go-gcpkms's AEAD does — encrypt and decrypt with the associated
// data, with CRC32C integrity checks both ways — without that module,
// whose tests import a genproto package that no longer exists, which keeps
// `go mod tidy` from completing.
type kmsAEAD struct {
	svc  *cloudkms.Service
	name string // projects/P/locations/L/keyRings/R/cryptoKeys/K
}

func newKMSAEAD(ctx context.Context, name string, opts ...option.ClientOption) (*kmsAEAD, error) {
	svc, err := cloudkms.NewService(ctx, append([]option.ClientOption{option.WithScopes(cloudkms.CloudkmsScope)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return &kmsAEAD{svc: svc, name: name}, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) int64 { return int64(crc32.Checksum(b, castagnoli)) }

// Encrypt implements tink.AEAD.
func (a *kmsAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	req := &cloudkms.EncryptRequest{
		Plaintext:                         base64.StdEncoding.EncodeToString(plaintext),
		PlaintextCrc32c:                   crc(plaintext),
		AdditionalAuthenticatedData:       base64.StdEncoding.EncodeToString(associatedData),
		AdditionalAuthenticatedDataCrc32c: crc(associatedData),
	}
	resp, err := a.svc.Projects.Locations.KeyRings.CryptoKeys.Encrypt(a.name, req).Context(context.Background()).Do()
	if err != nil {
		return nil, fmt.Errorf("cloud kms encrypt: %w", err)
	}
	if !resp.VerifiedPlaintextCrc32c || !resp.VerifiedAdditionalAuthenticatedDataCrc32c {
		return nil, fmt.Errorf("cloud kms encrypt: the request was corrupted in transit")
	}
	ct, err := base64.StdEncoding.DecodeString(resp.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("cloud kms encrypt: ciphertext: %w", err)
	}
	if resp.CiphertextCrc32c != crc(ct) {
		return nil, fmt.Errorf("cloud kms encrypt: the response was corrupted in transit")
	}
	return ct, nil
}

// Decrypt implements tink.AEAD.
func (a *kmsAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	req := &cloudkms.DecryptRequest{
		Ciphertext:                        base64.StdEncoding.EncodeToString(ciphertext),
		CiphertextCrc32c:                  crc(ciphertext),
		AdditionalAuthenticatedData:       base64.StdEncoding.EncodeToString(associatedData),
		AdditionalAuthenticatedDataCrc32c: crc(associatedData),
	}
	resp, err := a.svc.Projects.Locations.KeyRings.CryptoKeys.Decrypt(a.name, req).Context(context.Background()).Do()
	if err != nil {
		return nil, fmt.Errorf("cloud kms decrypt: %w", err)
	}
	pt, err := base64.StdEncoding.DecodeString(resp.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("cloud kms decrypt: plaintext: %w", err)
	}
	if resp.PlaintextCrc32c != crc(pt) {
		return nil, fmt.Errorf("cloud kms decrypt: the response was corrupted in transit (crc32c %s)", strconv.FormatInt(resp.PlaintextCrc32c, 10))
	}
	return pt, nil
}
