package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/table"
)

// runAnonymize de-identifies a table of real rows (shared/anonymize), with
// keys from the secrets adapter; --rotate-key adds a key version first.
func runAnonymize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("anonymize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limits := limitFlags(fs)
	out := fs.String("o", "", "output file; its extension picks the format (required unless --rotate-key alone)")
	k := fs.Int("k", 0, "k-anonymity over --quasi (0: off)")
	l := fs.Int("l", 0, "distinct l-diversity of every --sensitive column within each class (0: off)")
	quasi := fs.String("quasi", "", "comma-separated quasi-identifier columns, generalised by Mondrian partitioning")
	sensitive := fs.String("sensitive", "", "comma-separated sensitive columns for l-diversity")
	policyPath := fs.String("policy", "", "JSON policy: per-column rules (see README), quasi, sensitive, k, l, entity, domain")
	schemaPath := fs.String("schema", "", "JSON schema file overriding inferred column kinds")
	tenant := fs.String("tenant", "", "tenant whose keyring (secret anonymize-keys-TENANT) keys pseudonyms and tokens")
	rotate := fs.Bool("rotate-key", false, "add a new key version to the keyring (creating it when missing; file:// secrets only) before anonymising")
	report := fs.String("report", "", "write what was done (actions, key version, k-anonymity, information loss) as JSON here")
	detokenize := fs.String("detokenize", "", "comma-separated tokens (tk_…) to re-identify with the keyring, under any key version it keeps, instead of anonymising")
	domain := fs.String("domain", "synthos", "the policy's token domain, with --detokenize")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: synthos anonymize IN -o OUT [--k K --l L --quasi a,b,c --sensitive s] [--policy policy.json] [--tenant T]")
		fmt.Fprintln(stderr, "       synthos anonymize --rotate-key [--tenant T]")
		fmt.Fprintln(stderr, "       synthos anonymize --detokenize tk_a,tk_b [--domain D] [--tenant T]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if (len(pos) != 1 || *out == "") && !((*rotate || *detokenize != "") && len(pos) == 0) {
		fs.Usage()
		return fmt.Errorf("%w: anonymize takes one input table and -o", errUsage)
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	keyring, err := cliKeyring(ctx, cfg.SecretsURL, *tenant, *rotate, stdout)
	if err != nil {
		return err
	}
	if *detokenize != "" {
		// Authorised re-identification of tokens this keyring made.
		for _, tok := range splitList(*detokenize) {
			v, err := keyring.Detokenize(tok, *domain)
			if err != nil {
				return fmt.Errorf("detokenize %s: %w", tok, err)
			}
			fmt.Fprintf(stdout, "%s\t%s\n", tok, v)
		}
		return nil
	}
	if len(pos) == 0 {
		return nil
	}
	var pol anonymize.Policy
	if *policyPath != "" {
		b, err := os.ReadFile(*policyPath)
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pol); err != nil {
			return fmt.Errorf("%w: policy %s: %v", errUsage, *policyPath, err)
		}
	}
	if *k > 0 {
		pol.K = *k
	}
	if *l > 0 {
		pol.L = *l
	}
	if q := splitList(*quasi); len(q) > 0 {
		pol.Quasi = q
	}
	if s := splitList(*sensitive); len(s) > 0 {
		pol.Sensitive = s
	}
	in := pos[0]
	tab, err := readTable(in, *limits) // profiling needs the values; the transform streams the file again
	if err != nil {
		return err
	}
	p, err := profileTable(tab, *schemaPath)
	if err != nil {
		return err
	}
	var cols []table.Column
	for _, c := range pol.Kept(tab.Columns) {
		cols = append(cols, table.Column{Name: c})
	}
	tab = nil
	w, err := table.Create(*out, table.Auto, cols)
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	open := func() (table.Reader, io.Closer, error) {
		r, err := table.Open(in, *limits)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", in, err)
		}
		return r, r, nil
	}
	res, err := anonymize.Run(ctx, open, w, p, pol, keyring)
	if err != nil {
		if errors.Is(err, anonymize.ErrInput) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	if *report != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := writeFileAtomic(*report, append(b, '\n')); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d rows written to %s (keys: %s)\n", res.Rows, *out, res.KeyVersion)
	for _, a := range res.Actions {
		if a.Op != anonymize.OpKeep {
			fmt.Fprintf(stdout, "  %-20s %-11s %s\n", a.Column, a.Op, a.Reason)
		}
	}
	if ka := res.KAnonymity; ka != nil {
		fmt.Fprintf(stdout, "k-anonymity: k=%d l=%d over %s: %d classes (smallest %d, least diverse %d), %d rows suppressed, discernibility %.4g, GIL %.3f\n",
			ka.K, ka.L, strings.Join(ka.Quasi, ","), ka.Classes, ka.MinClass, ka.MinDiversity, ka.SuppressedRows, ka.Discernibility, ka.GIL)
	}
	return nil
}

// cliKeyring reads the tenant's keyring from the secrets adapter. With
// rotate it adds a key version (creating the keyring when missing) and
// writes it back, which only a file:// secrets directory allows from here;
// other stores get the command to run.
func cliKeyring(ctx context.Context, secretsURL, tenant string, rotate bool, stdout io.Writer) (*anonymize.Keyring, error) {
	name := anonymize.SecretName(tenant)
	dir, isDir := strings.CutPrefix(secretsURL, "file://")
	if isDir {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("secrets directory %s: %w", dir, err)
		}
	}
	src, err := secrets.Open(ctx, secretsURL)
	if err != nil {
		return nil, fmt.Errorf("open secrets (SYNTHOS_SECRETS_URL=%s): %w", secretsURL, err)
	}
	defer src.Close()
	k, err := anonymize.LoadKeyring(ctx, src, tenant)
	missing := errors.Is(err, secrets.ErrNotFound)
	if err != nil && !(missing && (rotate || isDir)) {
		return nil, err
	}
	if !rotate && !missing {
		return k, nil
	}
	if !isDir {
		return nil, fmt.Errorf("key rotation writes the secret %s; with %s create a new version with the store's own tools", name, secretsURL)
	}
	if missing {
		if k, err = anonymize.NewKeyring(); err != nil {
			return nil, err
		}
	} else if err := k.Rotate(); err != nil {
		return nil, err
	}
	b, err := k.Marshal()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, name), b); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(dir, name), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "keyring %s in %s now at %s\n", name, dir, k.KeyVersion())
	return k, nil
}
