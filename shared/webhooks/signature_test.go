package webhooks_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/webhooks"
)

// The Standard Webhooks specification's published test vector.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignReferenceVector(t *testing.T) {
	t.Parallel()
	got, err := webhooks.Sign(vecID, time.Unix(vecTS, 0), []byte(vecBody), vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got != vecSig {
		t.Fatalf("Sign = %q, want the specification's %q", got, vecSig)
	}
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(webhooks.HeaderID, id)
	h.Set(webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(webhooks.HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	t.Parallel()
	signed := time.Unix(vecTS, 0)
	other, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	both, err := webhooks.Sign(vecID, signed, []byte(vecBody), other, vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(both)); n != 2 {
		t.Fatalf("two secrets gave %d signatures: %q", n, both)
	}
	tests := []struct {
		name    string
		h       http.Header
		body    string
		now     time.Time
		secrets []string
		want    error
	}{
		{"reference vector", headers(vecID, vecTS, vecSig), vecBody, signed, []string{vecSecret}, nil},
		{"secret without prefix", headers(vecID, vecTS, vecSig), vecBody, signed, []string{strings.TrimPrefix(vecSecret, "whsec_")}, nil},
		{"within tolerance", headers(vecID, vecTS, vecSig), vecBody, signed.Add(4 * time.Minute), []string{vecSecret}, nil},
		{"too old", headers(vecID, vecTS, vecSig), vecBody, signed.Add(6 * time.Minute), []string{vecSecret}, webhooks.ErrSignature},
		{"from the future", headers(vecID, vecTS, vecSig), vecBody, signed.Add(-6 * time.Minute), []string{vecSecret}, webhooks.ErrSignature},
		{"body changed", headers(vecID, vecTS, vecSig), `{"test": 2432232315}`, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"id changed", headers("msg_other", vecTS, vecSig), vecBody, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"timestamp changed", headers(vecID, vecTS+1, vecSig), vecBody, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"wrong secret", headers(vecID, vecTS, vecSig), vecBody, signed, []string{other}, webhooks.ErrSignature},
		{"one of the receiver's secrets matches", headers(vecID, vecTS, vecSig), vecBody, signed, []string{other, vecSecret}, nil},
		{"rotation: old secret verifies", headers(vecID, vecTS, both), vecBody, signed, []string{vecSecret}, nil},
		{"rotation: new secret verifies", headers(vecID, vecTS, both), vecBody, signed, []string{other}, nil},
		{"unknown scheme ignored", headers(vecID, vecTS, "v1a,abc "+vecSig), vecBody, signed, []string{vecSecret}, nil},
		{"only an unknown scheme", headers(vecID, vecTS, "v2,"+strings.TrimPrefix(vecSig, "v1,")), vecBody, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"missing signature", headers(vecID, vecTS, ""), vecBody, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"bad timestamp", func() http.Header { h := headers(vecID, 0, vecSig); h.Set(webhooks.HeaderTimestamp, "soon"); return h }(), vecBody, signed, []string{vecSecret}, webhooks.ErrSignature},
		{"malformed secret", headers(vecID, vecTS, vecSig), vecBody, signed, []string{"whsec_!!!"}, webhooks.ErrInvalid},
		{"no secret", headers(vecID, vecTS, vecSig), vecBody, signed, nil, webhooks.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := webhooks.Verify(tt.h, []byte(tt.body), tt.now, tt.secrets...)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := webhooks.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webhooks.NewSecret()
	if !strings.HasPrefix(a, webhooks.SecretPrefix) || a == b || len(a) < len(webhooks.SecretPrefix)+40 {
		t.Fatalf("NewSecret gave %q and %q", a, b)
	}
	if _, err := webhooks.Sign("msg_1", time.Now(), []byte("{}"), a); err != nil {
		t.Fatalf("a generated secret does not sign: %v", err)
	}
}
