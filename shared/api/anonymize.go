package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/secrets"
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
	if s.Secrets == nil {
		return nil, unavailable("no secrets adapter for the anonymisation keys", errors.New("Service.Secrets is nil"))
	}
	keyring, err := anonymize.LoadKeyring(ctx, s.Secrets, p.Tenant)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, &CodedError{Code: "keyring_missing", Kind: ErrConflict,
			Msg: fmt.Sprintf("the tenant has no anonymisation keyring: create the secret %s (synthos anonymize --rotate-key writes one)", anonymize.SecretName(p.Tenant))}
	}
	if err != nil {
		return nil, unavailable("reading the anonymisation keyring failed", err)
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
	for _, c := range sample.Columns {
		if r, ok := pol.Columns[c]; !ok || r.Op != anonymize.OpDrop {
			cols = append(cols, table.Column{Name: c})
		}
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
