package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/state"
)

// keysEnv points the configuration at a fresh temporary platform.
func keysEnv(t *testing.T) (stateURL, dir string) {
	t.Helper()
	dir = t.TempDir()
	stateURL = "bolt://" + filepath.Join(dir, "state.db")
	t.Setenv("SYNTHOS_STATE_URL", stateURL)
	t.Setenv("SYNTHOS_SECRETS_URL", "file://"+filepath.Join(dir, "secrets"))
	return stateURL, dir
}

func runKeysCmd(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := runKeys(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestKeysCreateListRevoke(t *testing.T) {
	stateURL, dir := keysEnv(t)
	out, msg, err := runKeysCmd("create", "--tenant", "acme", "--scope", "read,admin", "--name", "bootstrap")
	if err != nil {
		t.Fatalf("create: %v %s", err, msg)
	}
	key := strings.TrimSpace(out)
	if !apikeys.LooksLikeKey(key) || !strings.HasPrefix(key, "sk_live_") {
		t.Fatalf("stdout is not just the key: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets", apikeys.PepperSecret)); err != nil {
		t.Errorf("pepper not created: %v", err)
	}
	test, _, err := runKeysCmd("create", "--tenant", "acme", "--test")
	if err != nil || !strings.HasPrefix(test, "sk_test_") {
		t.Fatalf("create --test: %q %v", test, err)
	}

	// The key verifies against the same store and pepper the API uses.
	st, err := state.Open(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	pepper, err := os.ReadFile(filepath.Join(dir, "secrets", apikeys.PepperSecret))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apikeys.New(st, bytes.TrimSuffix(pepper, []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.Verify(context.Background(), key)
	if err != nil || p.Tenant != "acme" || !p.Has(apikeys.Admin) {
		t.Fatalf("verify: %+v %v", p, err)
	}
	st.Close()

	out, _, err = runKeysCmd("list", "--tenant", "acme")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, "bootstrap") || !strings.Contains(out, "read,admin") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Contains(out, key) {
		t.Error("list prints the key itself")
	}
	id := p.KeyID
	if out, _, err = runKeysCmd("revoke", "--tenant", "acme", id); err != nil || !strings.Contains(out, "revoked key "+id) {
		t.Fatalf("revoke: %v %s", err, out)
	}
	out, _, _ = runKeysCmd("list", "--tenant", "acme")
	if line := lineWith(out, id); strings.HasSuffix(strings.TrimSpace(line), "-") {
		t.Errorf("revoked key listed as active: %q", line)
	}
	if _, _, err := runKeysCmd("revoke", "--tenant", "other", id); err == nil || !strings.Contains(err.Error(), "has no key") {
		t.Errorf("revoke another tenant's key: %v", err)
	}
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestKeysUsageErrors(t *testing.T) {
	keysEnv(t)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "subcommand"},
		{[]string{"create"}, "--tenant"},
		{[]string{"create", "--tenant", "a", "--scope", "root"}, "unknown scope"},
		{[]string{"create", "--tenant", "a", "extra"}, "no arguments"},
		{[]string{"revoke", "--tenant", "a"}, "one key id"},
		{[]string{"rotate", "--tenant", "a"}, "unknown keys subcommand"},
		{[]string{"create", "--tenant", "a b"}, "tenant"},
	}
	for _, tc := range tests {
		_, _, err := runKeysCmd(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keys %q: %v, want an error mentioning %q", tc.args, err, tc.want)
		}
	}
}

func TestKeysLockedStoreSaysWhatToDo(t *testing.T) {
	stateURL, _ := keysEnv(t)
	if _, _, err := runKeysCmd("create", "--tenant", "a"); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), stateURL) // as synthos serve holds it
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, _, err = runKeysCmd("list", "--tenant", "a")
	if !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), "/v1/keys") || !strings.Contains(err.Error(), "synthos serve") {
		t.Errorf("locked store: %v", err)
	}
}

func TestKeysMissingPepperSaysHowToCreateIt(t *testing.T) {
	keysEnv(t)
	t.Setenv("SYNTHOS_SECRETS_URL", "env://")
	t.Setenv("SYNTHOS_SECRET_API_KEY_PEPPER", "")
	os.Unsetenv("SYNTHOS_SECRET_API_KEY_PEPPER")
	_, _, err := runKeysCmd("create", "--tenant", "a")
	if err == nil || !strings.Contains(err.Error(), "export SYNTHOS_SECRET_API_KEY_PEPPER=") {
		t.Errorf("missing pepper: %v", err)
	}
}
