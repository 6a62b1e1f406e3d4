package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// profileRows is how many rows of a dataset are profiled to pick the
// default operators and date layouts of an anonymisation.
const profileRows = 10000

// Anonymized is the answer of an anonymisation: the new dataset and what
// was done.
type Anonymized struct {
	Dataset *datasets.Dataset
	Result  *anonymize.Result
}

// Anonymize de-identifies a ready dataset of the tenant into a new dataset
// (synchronously: the rows stream from the object store through the
// operators back into it; k-anonymity reads the table twice), with the
// tenant's keyring from the secrets adapter.
func (s *Service) Anonymize(ctx context.Context, p *apikeys.Principal, id string, pol anonymize.Policy) (*Anonymized, error) {
	src, err := s.Datasets.Get(ctx, p.Tenant, id)
	if errors.Is(err, datasets.ErrNotFound) {
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: fmt.Sprintf("dataset %s does not exist", id)}
	}
	if err != nil {
		return nil, err
	}
	if src.Status != datasets.Ready {
		return nil, &CodedError{Code: "dataset_not_ready", Kind: ErrConflict, Msg: fmt.Sprintf("dataset %s is %s, not ready", id, src.Status)}
	}
	keyring, _, err := s.anonymizeKeys().Load(ctx, p.Tenant)
	if err != nil {
		return nil, keyringErr(p.Tenant, err)
	}
	format, err := table.FormatOf(src.Key)
	if err != nil {
		return nil, unavailable("the dataset's format is unknown", err)
	}
	opts := table.Options{MaxCellBytes: -1, MaxColumns: -1}
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	open := func() (table.Reader, io.Closer, error) {
		r, closeObj, err := datasets.OpenObject(ctx, s.Bucket, src.Key, format, opts, ring.Reveal(ctx, p.Tenant))
		if err != nil {
			return nil, nil, err
		}
		return r, closerFunc(closeObj), nil
	}
	sample, err := readRows(open, profileRows)
	if err != nil {
		return nil, unavailable("reading the dataset failed", err)
	}
	prof, err := profile.Infer(sample, profile.Options{})
	if err != nil {
		return nil, fieldErr("dataset", "cannot be profiled: %v", err)
	}
	var cols []table.Column
	for _, c := range pol.Kept(sample.Columns) {
		cols = append(cols, table.Column{Name: c})
	}
	nid := NewID(ctx, p.Tenant, "anonymize", "ds_")
	if d, err := s.Datasets.Get(ctx, p.Tenant, nid); err == nil && d.Status == datasets.Ready {
		return &Anonymized{Dataset: d}, nil // re-executed under the same Idempotency-Key
	}
	name := "anonymized-" + strings.TrimSuffix(src.Name, path.Ext(src.Name)) + ".csv"
	d := &datasets.Dataset{ID: nid, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, nid, name),
		Format: table.CSV.String(), Status: datasets.Validating, CreatedAt: s.Now().UTC()}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := s.Bucket.NewWriter(wctx, d.Key, &blob.WriterOptions{ContentType: table.CSV.ContentType()})
	if err != nil {
		return nil, unavailable("writing the anonymised table failed", err)
	}
	// Encrypted like an upload when the tenant chose encryption at rest.
	ow, err := ring.ObjectWriter(ctx, p.Tenant, bw)
	if err != nil {
		cancel()
		bw.Close()
		return nil, unavailable("writing the anonymised table failed", err)
	}
	tw, err := table.NewWriter(ow, table.CSV, cols)
	if err != nil {
		cancel()
		bw.Close()
		return nil, unavailable("writing the anonymised table failed", err)
	}
	res, err := anonymize.Run(ctx, open, &blobTable{Writer: tw, ow: ow, bw: bw, cancel: cancel}, prof, pol, keyring)
	if errors.Is(err, anonymize.ErrInput) {
		return nil, fieldErr("policy", "%v", err)
	}
	if err != nil {
		return nil, unavailable("anonymising the dataset failed", err)
	}
	if err := s.Datasets.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("anonymize %s: %w", nid, err)
	}
	out, err := s.finish(ctx, p, d, "anonymize")
	if err != nil {
		return nil, err
	}
	s.emit(ctx, p, "dataset.anonymized", nid, "success", map[string]string{"source": id, "key_version": res.KeyVersion})
	return &Anonymized{Dataset: out, Result: res}, nil
}

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// blobTable closes the blob writer after the table writer; Abort cancels
// the upload, so a failed run leaves no object.
type blobTable struct {
	table.Writer
	ow     io.Closer // finishes the ciphertext when encrypting
	bw     *blob.Writer
	cancel context.CancelFunc
}

func (b *blobTable) Close() error {
	err := b.Writer.Close()
	if err == nil {
		err = b.ow.Close()
	}
	if err != nil {
		b.cancel()
		b.bw.Close()
		return err
	}
	return b.bw.Close()
}

func (b *blobTable) Abort() error {
	b.cancel()
	b.bw.Close()
	return nil
}

// readRows reads at most n rows of the table open returns.
func readRows(open anonymize.Opener, n int) (*table.Table, error) {
	r, c, err := open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	t := &table.Table{Columns: append([]string(nil), r.Columns()...)}
	for len(t.Rows) < n {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, append([]string(nil), row...))
	}
	return t, nil
}

// anonymizeKeys is the store of the tenants' anonymisation keyrings:
// rotated ones sealed in State with the tenant's keys, else the secrets
// adapter's.
func (s *Service) anonymizeKeys() *anonymize.KeyStore {
	return &anonymize.KeyStore{State: s.State, Ring: s.Keyring, Secrets: s.Secrets, Now: s.Now}
}

// keyringErr is the API's answer to a keyring that cannot be read.
func keyringErr(tenant string, err error) error {
	switch {
	case errors.Is(err, anonymize.ErrNoKeyring):
		return &CodedError{Code: "keyring_missing", Kind: ErrConflict,
			Msg: fmt.Sprintf("the tenant has no anonymisation keyring: an admin creates one with POST /v1/anonymize/keys/rotate (or put the secret %s in the secrets store; synthos anonymize --rotate-key writes one)", anonymize.SecretName(tenant))}
	case errors.Is(err, anonymize.ErrNoSealing):
		return &CodedError{Code: "unavailable", Kind: ErrUnavailable,
			Msg: "the tenant's anonymisation keyring is sealed with its encryption keys, and this deployment has none (SYNTHOS_KEK_URI)"}
	}
	return unavailable("reading the anonymisation keyring failed", classifyKeys(err))
}

// AnonymizeKeys describes the caller's anonymisation keyring: the key
// version new pseudonyms and tokens use, the versions kept, where it is
// stored. No key material.
func (s *Service) AnonymizeKeys(ctx context.Context, p *apikeys.Principal) (anonymize.KeyInfo, error) {
	_, info, err := s.anonymizeKeys().Load(ctx, p.Tenant)
	if err != nil {
		return anonymize.KeyInfo{}, keyringErr(p.Tenant, err)
	}
	return info, nil
}

// RotateAnonymizeKeys adds a key version to the caller's anonymisation
// keyring (creating it when there is none) and audits it: pseudonyms,
// surrogates and date shifts made from now on use the new HMAC key, tokens
// the new AES-SIV key; tokens made before still decrypt.
func (s *Service) RotateAnonymizeKeys(ctx context.Context, p *apikeys.Principal) (anonymize.KeyInfo, error) {
	info, err := s.anonymizeKeys().Rotate(ctx, p.Tenant)
	if errors.Is(err, anonymize.ErrNoSealing) {
		return anonymize.KeyInfo{}, &CodedError{Code: "unavailable", Kind: ErrUnavailable,
			Msg: "rotating the anonymisation keys stores them sealed with the tenant's encryption keys, and this deployment has none (SYNTHOS_KEK_URI)"}
	}
	if err != nil {
		return anonymize.KeyInfo{}, unavailable("rotating the anonymisation keys failed", classifyKeys(err))
	}
	s.emit(ctx, p, "anonymize.keys_rotated", "tenant/anonymize-keys", "success",
		map[string]string{"key_version": info.KeyVersion, "hmac_version": strconv.Itoa(info.HMACVersion)})
	return info, nil
}

// MaxDetokenize bounds the tokens of one re-identification request.
const MaxDetokenize = 1000

// Detokenized is one token's re-identification: its value, or why not.
type Detokenized struct {
	Token string `json:"token"`
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

// Detokenize reverses reversible tokens (operator token) with the caller's
// keyring — authorised re-identification, admin scope, audited with the
// count only (the values are personal data). Tokens made under any key
// version still in the keyring decrypt; domain is the policy's (default
// "synthos").
func (s *Service) Detokenize(ctx context.Context, p *apikeys.Principal, tokens []string, domain string) ([]Detokenized, error) {
	if len(tokens) == 0 || len(tokens) > MaxDetokenize {
		return nil, fieldErr("tokens", "must hold 1 to %d tokens", MaxDetokenize)
	}
	if domain == "" {
		domain = "synthos"
	}
	k, _, err := s.anonymizeKeys().Load(ctx, p.Tenant)
	if err != nil {
		return nil, keyringErr(p.Tenant, err)
	}
	out := make([]Detokenized, len(tokens))
	failed := 0
	for i, t := range tokens {
		out[i].Token = t
		v, err := k.Detokenize(t, domain)
		if err != nil {
			out[i].Error = "does not decrypt with this tenant's keyring and domain " + strconv.Quote(domain)
			failed++
			continue
		}
		out[i].Value = v
	}
	s.emit(ctx, p, "anonymize.detokenized", "tenant/anonymize-keys", "success",
		map[string]string{"tokens": strconv.Itoa(len(tokens)), "failed": strconv.Itoa(failed), "domain": domain})
	return out, nil
}
