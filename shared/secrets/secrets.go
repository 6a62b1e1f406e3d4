// Package secrets reads secret values (API peppers, webhook signing keys,
// database passwords) by name from a Source chosen by URL: the environment and
// a directory of files for local runs, Google Cloud Secret Manager in
// production.
//
// Configuration values may be references of the form secret://NAME, which
// Resolve replaces with the secret's value at start-up, so that secrets never
// sit in plain configuration.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Source returns secret values by name. Implementations are safe for
// concurrent use. Callers must not keep the returned bytes longer than needed
// and must not log them.
type Source interface {
	// Get returns the current value of the named secret. A secret that does
	// not exist is an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) ([]byte, error)
	// Close releases the Source's resources (files, connections).
	Close() error
}

// Errors a Source returns, to be tested with errors.Is.
var (
	// ErrNotFound reports a secret that does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrInvalidName reports a secret name that is empty, too long, or could
	// escape its namespace (a path separator, a leading dot).
	ErrInvalidName = errors.New("invalid secret name")
	// ErrCorrupt reports a value that failed its integrity check or exceeds
	// the size limit.
	ErrCorrupt = errors.New("corrupt secret value")
	// ErrScheme reports a source URL whose scheme Open does not accept.
	ErrScheme = errors.New("unsupported secrets URL scheme")
	// ErrNoSource reports a secret reference resolved without a Source.
	ErrNoSource = errors.New("no secret source")
)

// maxSize caps a secret value; it is Secret Manager's limit (64 KiB), applied
// to every driver so that none accepts what production would refuse.
const maxSize = 64 << 10

// checkName returns an error wrapping ErrInvalidName unless name is a plain
// secret name: Secret Manager's own rule (1 to 255 letters, digits, '-' and
// '_'), which also keeps names safe as file names (no separator, no "..") and
// as environment variable suffixes.
func checkName(name string) error {
	ok := len(name) > 0 && len(name) <= 255
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		return fmt.Errorf("secrets: %q: %w (want 1 to 255 of A-Z a-z 0-9 - _)", name, ErrInvalidName)
	}
	return nil
}

// Open returns the Source named by rawURL:
//
//   - env:// reads secret NAME from the environment variable
//     SYNTHOS_SECRET_<NAME>, upper-cased with '-' turned to '_' (see Env).
//   - file:///DIR reads secret NAME from the file DIR/NAME (see Dir).
//   - gcpsecretmanager://PROJECT reads the latest version of secret NAME in
//     Secret Manager in PROJECT, with Application Default Credentials (see
//     Manager).
func Open(ctx context.Context, rawURL string) (Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("secrets.Open %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "env":
		if u.Host != "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("secrets.Open %q: env URL takes no host or path, use env://", rawURL)
		}
		return Env(nil), nil
	case "file":
		dir := u.Path
		if u.Host == "." {
			dir = strings.TrimPrefix(dir, "/")
		} else if u.Host != "" {
			// file://rel/dir is a path relative to the working directory,
			// as gocloud's fileblob and the bolt state URL read it.
			dir = u.Host + u.Path
		}
		if dir == "" {
			return nil, fmt.Errorf("secrets.Open %q: file URL needs a directory", rawURL)
		}
		src, err := Dir(dir)
		if err != nil {
			return nil, fmt.Errorf("secrets.Open %q: %w", rawURL, err)
		}
		return src, nil
	case "gcpsecretmanager":
		if u.Host == "" {
			return nil, fmt.Errorf("secrets.Open %q: want gcpsecretmanager://PROJECT", rawURL)
		}
		src, err := Manager(ctx, u.Host)
		if err != nil {
			return nil, fmt.Errorf("secrets.Open %q: %w", rawURL, err)
		}
		return src, nil
	default:
		return nil, fmt.Errorf("secrets.Open %q: %w %q (accepted: env://, file:///DIR, gcpsecretmanager://PROJECT)",
			rawURL, ErrScheme, u.Scheme)
	}
}

// refPrefix marks a configuration value that names a secret.
const refPrefix = "secret://"

// Resolve returns value unchanged unless it is a reference secret://NAME, in
// which case it returns the value of secret NAME from src. It lets a
// configuration hold references where it would otherwise hold secrets.
func Resolve(ctx context.Context, src Source, value string) (string, error) {
	name, ok := strings.CutPrefix(value, refPrefix)
	if !ok {
		return value, nil
	}
	if src == nil {
		return "", fmt.Errorf("secrets.Resolve %q: %w", value, ErrNoSource)
	}
	b, err := src.Get(ctx, name)
	if err != nil {
		return "", fmt.Errorf("secrets.Resolve %q: %w", value, err)
	}
	return string(b), nil
}

// envSource reads secrets from environment variables.
type envSource struct {
	lookup func(string) (string, bool)
}

// Env returns a Source that reads secret NAME from the environment variable
// SYNTHOS_SECRET_<NAME>, upper-cased with every character other than a letter
// or digit turned to '_': webhook-pepper is SYNTHOS_SECRET_WEBHOOK_PEPPER. An
// unset or empty variable is ErrNotFound, since an empty secret is a
// deployment mistake rather than a value. lookup replaces os.LookupEnv (tests
// pass a map); nil means os.LookupEnv.
func Env(lookup func(string) (string, bool)) Source {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &envSource{lookup: lookup}
}

// EnvName returns the environment variable that Env reads for secret name.
func EnvName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return "SYNTHOS_SECRET_" + string(b)
}

func (s *envSource) Get(_ context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	key := EnvName(name)
	v, ok := s.lookup(key)
	if !ok || v == "" {
		return nil, fmt.Errorf("secrets: %q (environment variable %s): %w", name, key, ErrNotFound)
	}
	if len(v) > maxSize {
		return nil, fmt.Errorf("secrets: %q: %w: larger than %d bytes", name, ErrCorrupt, maxSize)
	}
	return []byte(v), nil
}

func (s *envSource) Close() error { return nil }
