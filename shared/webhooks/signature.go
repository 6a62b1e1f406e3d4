package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret, as Standard Webhooks recommends,
// so that a secret pasted in the wrong place is recognisable.
const SecretPrefix = "whsec_"

// secretBytes is the size of a generated signing key. The specification asks
// for 24 to 64 bytes.
const secretBytes = 32

// Tolerance is how far a webhook-timestamp may be from the receiver's clock
// before Verify rejects the message as a possible replay.
const Tolerance = 5 * time.Minute

// NewSecret returns a fresh signing secret "whsec_<base64 of 32 random bytes>".
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhooks: generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// decodeSecret returns the HMAC key of a "whsec_<base64>" secret. The prefix
// is optional, as in the reference libraries.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: a signing secret must be %s followed by base64", ErrInvalid, SecretPrefix)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one message: one
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per secret, separated by
// spaces. Signing with the old and the new secret during a rotation lets a
// receiver verify with either.
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	if id == "" || len(secrets) == 0 {
		return "", fmt.Errorf("%w: signing needs a message id and at least one secret", ErrInvalid)
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)))
	}
	return strings.Join(sigs, " "), nil
}

func mac(key []byte, id string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a received webhook as a Standard Webhooks receiver does: the
// three headers are present, the timestamp is within Tolerance of now, and
// at least one v1 signature in the header matches one of secrets (a receiver
// rotating its secret passes both). Errors wrap ErrSignature, or ErrInvalid
// for a malformed secret.
func Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	id, tsText, sigText := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigText == "" {
		return fmt.Errorf("%w: missing %s, %s or %s header", ErrSignature, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not a Unix time", ErrSignature, HeaderTimestamp, tsText)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: timestamp is %s away from now, over the %s tolerance", ErrSignature, d.Round(time.Second), Tolerance)
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrInvalid)
	}
	for _, s := range secrets {
		key, err := decodeSecret(s)
		if err != nil {
			return err
		}
		want := mac(key, id, unix, body)
		for _, sig := range strings.Fields(sigText) {
			version, b64, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue // other schemes (v1a) are not ours to check
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no v1 signature matches", ErrSignature)
}
