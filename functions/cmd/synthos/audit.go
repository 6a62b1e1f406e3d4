package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

const auditUsage = `usage:
  synthos audit verify [--key VKEY] [--checkpoint CP] BUNDLE.jsonl
  synthos audit verify [--key VKEY] --live --checkpoint CP
  synthos audit verify [--key VKEY] --proof PROOF.json
  synthos audit verify [--key VKEY] --consistency PROOF.json
  synthos audit consistency [--key VKEY] OLD_CP NEW_CP
  synthos audit keygen [--name N]

verify checks an audit bundle (a file of the audit bucket), the live log
in SYNTHOS_STATE_URL against a signed checkpoint (CP: a file holding the
note, e.g. the checkpoint field of GET /v1/audit/checkpoint), a record
proof (GET /v1/audit/{seq}/proof) or a consistency proof (GET
/v1/audit/consistency), and names the first record altered, removed or
reordered. consistency proves, from the live log, that the log of OLD_CP is
a prefix of NEW_CP's. VKEY is the verifier key ("name+hash+base64", or
@FILE); without --key the local audit-signing-key secret's is used.
Exit status 1 when something does not verify.`

// runAudit verifies audit logs, bundles and proofs.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, auditUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: audit needs a subcommand (verify, consistency, keygen)", errUsage)
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch sub {
	case "keygen":
		name := fs.String("name", audit.DefaultKeyName, "the key's name")
		if _, err := parseInterleaved(fs, args); err != nil {
			return err
		}
		skey, vkey, err := audit.GenerateKey(*name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "store the first line as the %s secret; publish the second (the verifier key)\n", audit.SigningKeySecret)
		_, err = fmt.Fprintf(stdout, "%s\n%s\n", skey, vkey)
		return err
	case "verify", "consistency":
	default:
		fmt.Fprintln(stderr, auditUsage)
		return fmt.Errorf("%w: unknown audit subcommand %q", errUsage, sub)
	}
	key := fs.String("key", "", "the verifier key, or @FILE holding it (default: the local audit-signing-key's)")
	cpFile := fs.String("checkpoint", "", "a file holding a signed checkpoint the bundle or live log must match")
	live := fs.Bool("live", false, "verify the live log in SYNTHOS_STATE_URL against --checkpoint")
	proofFile := fs.String("proof", "", "a record proof (JSON of GET /v1/audit/{seq}/proof) to check")
	consFile := fs.String("consistency", "", "a consistency proof (JSON of GET /v1/audit/consistency) to check")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	v, err := verifierFrom(ctx, *key)
	if err != nil {
		return err
	}
	if sub == "consistency" {
		if len(pos) != 2 {
			return fmt.Errorf("%w: audit consistency takes two checkpoint files", errUsage)
		}
		return auditConsistency(ctx, v, pos[0], pos[1], stdout)
	}
	switch {
	case *proofFile != "":
		var p audit.RecordProof
		if err := readJSON(*proofFile, &p); err != nil {
			return err
		}
		if err := p.Check(v); err != nil {
			return fmt.Errorf("NOT VERIFIED: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "OK: record %d of %s (event %s) is in the signed log of %d records\n", p.Seq, p.Log, p.Record.ID, p.TreeSize)
		return err
	case *consFile != "":
		var p audit.ConsistencyProof
		if err := readJSON(*consFile, &p); err != nil {
			return err
		}
		if err := p.Check(v); err != nil {
			return fmt.Errorf("NOT VERIFIED: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "OK: %s at %d records is a prefix of it at %d\n", p.Log, p.From, p.To)
		return err
	}
	var trusted []byte
	if *cpFile != "" {
		if trusted, err = os.ReadFile(*cpFile); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
	}
	var rep audit.Report
	if *live {
		if trusted == nil || len(pos) != 0 {
			return fmt.Errorf("%w: audit verify --live needs --checkpoint and no bundle", errUsage)
		}
		st, closeSt, err := openAuditState(ctx)
		if err != nil {
			return err
		}
		defer closeSt()
		if rep, err = audit.NewLog(st).VerifyLive(ctx, trusted, v); err != nil {
			return err
		}
	} else {
		if len(pos) != 1 {
			return fmt.Errorf("%w: audit verify takes one bundle file (or --live, --proof, --consistency)", errUsage)
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open bundle: %w", err)
		}
		defer f.Close()
		if rep, err = audit.VerifyBundle(f, audit.VerifyOptions{Verifier: v, Trusted: trusted}); err != nil {
			return err
		}
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %s\n", rep.Log, rep.Problem.Msg)
		return fmt.Errorf("audit log %s: %s record at index %d", rep.Log, rep.Problem.Kind, rep.Problem.Index)
	}
	_, err = fmt.Fprintf(stdout, "OK: %d records of %s match the signed checkpoint of %d records (root %x)\n", rep.Records, rep.Log, rep.Size, rep.Root)
	return err
}

// auditConsistency proves from the live log that the log of the first
// checkpoint is a prefix of the second's, and checks the proof.
func auditConsistency(ctx context.Context, v note.Verifier, oldFile, newFile string, stdout io.Writer) error {
	var cps [2]audit.Checkpoint
	for i, f := range []string{oldFile, newFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if cps[i], err = audit.OpenCheckpoint(b, v); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	if cps[0].Origin != cps[1].Origin || cps[0].Size > cps[1].Size {
		return fmt.Errorf("%w: the checkpoints must be of one log, the older first (%s at %d, %s at %d)", errUsage, cps[0].Log(), cps[0].Size, cps[1].Log(), cps[1].Size)
	}
	st, closeSt, err := openAuditState(ctx)
	if err != nil {
		return err
	}
	defer closeSt()
	p, err := audit.NewLog(st).ConsistencyProof(ctx, cps[1].Log(), cps[0].Size, cps[1].Size)
	if err != nil {
		return err
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cps[0].Size, cps[1].Size, p, cps[0].Root, cps[1].Root); err != nil {
		fmt.Fprintf(stdout, "NOT VERIFIED: %s at %d is not a prefix of it at %d: %v\n", cps[0].Log(), cps[0].Size, cps[1].Size, err)
		return fmt.Errorf("audit log %s forked or was rewritten between %d and %d records", cps[0].Log(), cps[0].Size, cps[1].Size)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(audit.ConsistencyProof{Log: cps[0].Log(), From: cps[0].Size, To: cps[1].Size, Proof: p})
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// verifierFrom parses the --key flag, or derives the local verifier key.
func verifierFrom(ctx context.Context, key string) (note.Verifier, error) {
	if path, ok := strings.CutPrefix(key, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read --key: %w", err)
		}
		key = string(bytes.TrimSpace(b))
	}
	if key == "" {
		cfg, err := config.Load(ctx)
		if err != nil {
			return nil, err
		}
		src, err := secrets.Open(ctx, cfg.SecretsURL)
		if err != nil {
			return nil, fmt.Errorf("open secrets (SYNTHOS_SECRETS_URL=%s): %w", cfg.SecretsURL, err)
		}
		defer src.Close()
		k, err := audit.OpenKeys(ctx, cfg.AuditKMSKey, cfg.AuditKeyName, src)
		if err != nil {
			return nil, fmt.Errorf("no --key given and %w", err)
		}
		key = k.VerifierKey
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("%w: --key %q is not a note verifier key (name+hash+base64): %w", errUsage, key, err)
	}
	return v, nil
}

func openAuditState(ctx context.Context) (state.Store, func(), error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	st, err := state.Open(ctx, cfg.StateURL)
	if err != nil {
		if errors.Is(err, state.ErrLocked) {
			return nil, nil, fmt.Errorf("the state store %s is in use (stop 'synthos serve' first): %w", cfg.StateURL, err)
		}
		return nil, nil, fmt.Errorf("open state store (SYNTHOS_STATE_URL=%s): %w", cfg.StateURL, err)
	}
	return st, func() { _ = st.Close() }, nil
}
