package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

// keysUsage is printed for `synthos keys` without a subcommand.
const keysUsage = `usage:
  synthos keys create --tenant T [--scope read,write] [--name N] [--test]
  synthos keys list   --tenant T
  synthos keys revoke --tenant T ID

create prints the new key (shown once) on stdout and its details on stderr.
The first admin key of a tenant can only come from here (or from the key
'synthos serve' prints on its first start): POST /v1/keys needs an admin key.
The commands open the state store directly (SYNTHOS_STATE_URL). While
'synthos serve' (make run) holds the embedded store, they go through its keys
API instead when SYNTHOS_API_KEY holds an admin key (the one make run
printed); against a deployment: synthos --api URL --key ADMIN_KEY keys ….`

// runKeys manages tenants' API keys in the state store the platform uses.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, keysUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: keys needs a subcommand (create, list, revoke)", errUsage)
		}
		return flag.ErrHelp
	}
	if rc := remoteFrom(ctx); rc != nil {
		return rc.keys(ctx, args, stdout, stderr)
	}
	all := args
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "the tenant the key belongs to (required)")
	var scope, name *string
	var test *bool
	if sub == "create" {
		scope = fs.String("scope", "read,write", "comma-separated scopes: read, write, admin")
		name = fs.String("name", "", "a label for the key")
		test = fs.Bool("test", false, "issue an sk_test_ key instead of sk_live_")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: keys %s needs --tenant", errUsage, sub)
	}
	var scopes []apikeys.Scope
	switch sub {
	case "create", "list":
		if len(pos) != 0 {
			return fmt.Errorf("%w: keys %s takes no arguments, got %q", errUsage, sub, pos)
		}
		if sub == "create" {
			if scopes, err = apikeys.ParseScopes(*scope); err != nil {
				return fmt.Errorf("%w: --scope: %w", errUsage, err)
			}
		}
	case "revoke":
		if len(pos) != 1 {
			return fmt.Errorf("%w: keys revoke takes one key id", errUsage)
		}
	default:
		fmt.Fprintln(stderr, keysUsage)
		return fmt.Errorf("%w: unknown keys subcommand %q", errUsage, sub)
	}

	keys, closeKeys, err := openKeys(ctx, sub == "create")
	if errors.Is(err, state.ErrLocked) && os.Getenv("SYNTHOS_API_KEY") != "" {
		// The running platform holds the store: ask its keys API with the
		// admin key make run printed (SYNTHOS_API_KEY), so the quick start
		// works while the platform runs.
		cfg, cerr := config.Load(ctx)
		if cerr != nil {
			return cerr
		}
		rc, rerr := newRemote("http://"+cfg.Addr, os.Getenv("SYNTHOS_API_KEY"))
		if rerr != nil {
			return rerr
		}
		fmt.Fprintf(stderr, "the state store is in use by the running platform: using its keys API at %s (the key's tenant; --tenant is ignored)\n", rc.base)
		return rc.keys(ctx, all, stdout, stderr)
	}
	if err != nil {
		return err
	}
	defer closeKeys()

	switch sub {
	case "create":
		key, rec, err := keys.Create(ctx, apikeys.CreateOptions{Tenant: *tenant, Name: *name, Scopes: scopes, Test: *test})
		if err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		fmt.Fprintf(stderr, "created key %s for tenant %s with scopes %s; it is shown once, store it now:\n", rec.ID, rec.Tenant, joinScopes(rec.Scopes))
		_, err = fmt.Fprintln(stdout, key)
		return err
	case "list":
		recs, err := keys.List(ctx, *tenant)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKEY\tSCOPES\tNAME\tCREATED\tREVOKED")
		for _, r := range recs {
			revoked := "-"
			if r.RevokedAt != nil {
				revoked = r.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Display, joinScopes(r.Scopes), dash(r.Name), r.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	default: // revoke
		if err := keys.Revoke(ctx, *tenant, pos[0]); err != nil {
			if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
				return fmt.Errorf("revoke: tenant %s has no key %s (see 'synthos keys list --tenant %s')", *tenant, pos[0], *tenant)
			}
			return fmt.Errorf("revoke key: %w", err)
		}
		_, err := fmt.Fprintf(stdout, "revoked key %s of tenant %s (running API instances stop accepting it within 10 s)\n", pos[0], *tenant)
		return err
	}
}

// openKeys opens the configured state store and pepper. For create on a
// file:// secrets directory a missing pepper is created, as `synthos serve`
// does, so that a fresh checkout can issue its first key.
func openKeys(ctx context.Context, createPepper bool) (*apikeys.Keys, func(), error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	if dir, ok := strings.CutPrefix(cfg.SecretsURL, "file://"); ok && createPepper {
		if err := ensurePepper(dir); err != nil { // as synthos serve does (serve.go)
			return nil, nil, err
		}
	}
	src, err := secrets.Open(ctx, cfg.SecretsURL)
	if err != nil {
		return nil, nil, fmt.Errorf("open secrets (SYNTHOS_SECRETS_URL=%s): %w", cfg.SecretsURL, err)
	}
	pepper, err := src.Get(ctx, apikeys.PepperSecret)
	src.Close()
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil, fmt.Errorf("the %s secret is missing from %s: %s", apikeys.PepperSecret, cfg.SecretsURL, pepperHint(cfg.SecretsURL))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read the %s secret: %w", apikeys.PepperSecret, err)
	}
	st, err := state.Open(ctx, cfg.StateURL)
	if errors.Is(err, state.ErrLocked) {
		return nil, nil, fmt.Errorf("the state store %s is in use, most likely by 'synthos serve': stop it and retry, "+
			"or use the admin API while it runs (curl -H 'Authorization: Bearer <admin key>' -d '{\"scopes\":[\"read\",\"write\"]}' http://%s/v1/keys): %w",
			cfg.StateURL, cfg.Addr, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open state store (SYNTHOS_STATE_URL=%s): %w", cfg.StateURL, err)
	}
	keys, err := apikeys.New(st, pepper)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return keys, func() { st.Close() }, nil
}

// pepperHint says how to create the pepper for a secrets URL.
func pepperHint(secretsURL string) string {
	switch {
	case strings.HasPrefix(secretsURL, "env://"):
		return "set it in the environment of every synthos process, e.g. export " + secrets.EnvName(apikeys.PepperSecret) + "=$(openssl rand -hex 32)"
	case strings.HasPrefix(secretsURL, "gcpsecretmanager://"):
		return "create it once: openssl rand -hex 32 | gcloud secrets create " + apikeys.PepperSecret + " --data-file=-"
	}
	return "create it with: openssl rand -hex 32 > DIR/" + apikeys.PepperSecret
}

func joinScopes(sc []apikeys.Scope) string {
	parts := make([]string, len(sc))
	for i, s := range sc {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
