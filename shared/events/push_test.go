package events_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
)

// googleExample is the push body from Google's push subscription docs.
const googleExample = `{
  "message": {
    "attributes": {"key": "value"},
    "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
    "messageId": "2070443601311540",
    "message_id": "2070443601311540",
    "publishTime": "2021-02-26T19:13:55.749Z",
    "publish_time": "2021-02-26T19:13:55.749Z"
  },
  "subscription": "projects/myproject/subscriptions/mysubscription"
}`

func post(body string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
}

func TestDecodePush(t *testing.T) {
	published := time.Date(2021, 2, 26, 19, 13, 55, 749e6, time.UTC)
	tests := []struct {
		name    string
		body    string
		want    events.Message
		wantErr error
	}{
		{
			name: "google example",
			body: googleExample,
			want: events.Message{
				ID: "2070443601311540", Data: []byte("Hello Cloud Pub/Sub! Here is my message!"),
				Attributes: map[string]string{"key": "value"}, PublishTime: published,
				Subscription: "projects/myproject/subscriptions/mysubscription",
			},
		},
		{
			name: "camelCase only with delivery attempt",
			body: `{"message":{"data":"eA==","messageId":"1","publishTime":"2021-02-26T19:13:55.749Z"},"subscription":"s","deliveryAttempt":3}`,
			want: events.Message{ID: "1", Data: []byte("x"), PublishTime: published, DeliveryAttempt: 3, Subscription: "s"},
		},
		{
			name: "snake_case only",
			body: `{"message":{"attributes":{"a":"b"},"message_id":"2","publish_time":"2021-02-26T19:13:55.749Z"},"subscription":"s"}`,
			want: events.Message{ID: "2", Attributes: map[string]string{"a": "b"}, PublishTime: published, Subscription: "s"},
		},
		{
			name: "unknown fields ignored",
			body: `{"message":{"data":"eA==","messageId":"3","orderingKey":"k","extra":1},"subscription":"s","more":true}`,
			want: events.Message{ID: "3", Data: []byte("x"), Subscription: "s"},
		},
		{name: "empty body", body: ``, wantErr: events.ErrBadEnvelope},
		{name: "not json", body: `hello`, wantErr: events.ErrBadEnvelope},
		{name: "no message", body: `{"subscription":"s"}`, wantErr: events.ErrBadEnvelope},
		{name: "null message", body: `{"message":null}`, wantErr: events.ErrBadEnvelope},
		{name: "no id", body: `{"message":{"data":"eA=="}}`, wantErr: events.ErrBadEnvelope},
		{name: "bad base64", body: `{"message":{"data":"!!!","messageId":"1"}}`, wantErr: events.ErrBadEnvelope},
		{name: "bad time", body: `{"message":{"data":"eA==","messageId":"1","publishTime":"yesterday"}}`, wantErr: events.ErrBadEnvelope},
		{name: "attributes not strings", body: `{"message":{"messageId":"1","attributes":{"a":1}}}`, wantErr: events.ErrBadEnvelope},
		{name: "negative attempt", body: `{"message":{"messageId":"1","data":"eA=="},"deliveryAttempt":-1}`, wantErr: events.ErrBadEnvelope},
		{name: "too large", body: `{"message":{"data":"` + strings.Repeat("A", events.MaxPushBytes) + `"}}`, wantErr: events.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := events.DecodePush(post(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, events.ErrBadEnvelope) {
					t.Fatalf("DecodePush error = %v, want %v (and ErrBadEnvelope)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodePush: %v", err)
			}
			equalMessage(t, m, &tt.want)
		})
	}
}

func equalMessage(t *testing.T, got, want *events.Message) {
	t.Helper()
	if got.ID != want.ID || string(got.Data) != string(want.Data) || !got.PublishTime.Equal(want.PublishTime) ||
		got.DeliveryAttempt != want.DeliveryAttempt || got.Subscription != want.Subscription || len(got.Attributes) != len(want.Attributes) {
		t.Fatalf("message = %+v, want %+v", got, want)
	}
	for k, v := range want.Attributes {
		if got.Attributes[k] != v {
			t.Errorf("attribute %q = %q, want %q", k, got.Attributes[k], v)
		}
	}
}

func TestEncodePushRoundTrip(t *testing.T) {
	want := &events.Message{
		ID: "42", Data: []byte{0, 1, 2, 255}, Attributes: map[string]string{"k": "v"},
		PublishTime: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), DeliveryAttempt: 2, Subscription: "projects/p/subscriptions/s",
	}
	body, err := events.EncodePush(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"messageId":"42"`, `"message_id":"42"`, `"publishTime":`, `"publish_time":`, `"deliveryAttempt":2`} {
		if !strings.Contains(string(body), key) {
			t.Errorf("envelope %s lacks %s", body, key)
		}
	}
	got, err := events.DecodePush(post(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	equalMessage(t, got, want)

	if _, err := events.EncodePush(&events.Message{}); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("EncodePush without id = %v, want ErrInvalid", err)
	}
}

func TestPushHandler(t *testing.T) {
	okBody := `{"message":{"data":"eA==","messageId":"1"},"subscription":"s","deliveryAttempt":1}`
	boom := errors.New("boom")
	tests := []struct {
		name   string
		method string
		body   string
		err    error
		want   int
		called bool
	}{
		{"success", http.MethodPost, okBody, nil, http.StatusNoContent, true},
		{"handler fails", http.MethodPost, okBody, boom, http.StatusInternalServerError, true},
		{"wrong method", http.MethodGet, okBody, nil, http.StatusMethodNotAllowed, false},
		{"malformed", http.MethodPost, `{"message":{}}`, nil, http.StatusBadRequest, false},
		{"too large", http.MethodPost, strings.Repeat(" ", events.MaxPushBytes+1), nil, http.StatusRequestEntityTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h := events.PushHandler(func(_ context.Context, m *events.Message) error {
				called = true
				if m.ID != "1" || string(m.Data) != "x" {
					t.Errorf("handler got %+v", m)
				}
				return tt.err
			})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body)))
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
			if called != tt.called {
				t.Errorf("handler called = %v, want %v", called, tt.called)
			}
			if tt.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestPushHandlerTrace(t *testing.T) {
	tr := obs.NewTrace()
	msg := &events.Message{ID: "7", Data: []byte("x"), Attributes: map[string]string{obs.AttrTraceparent: tr.Traceparent()}}
	body, err := events.EncodePush(msg)
	if err != nil {
		t.Fatal(err)
	}
	var got obs.Trace
	h := events.PushHandler(func(ctx context.Context, _ *events.Message) error {
		got, _ = obs.TraceFrom(ctx)
		return nil
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, post(string(body)))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d", w.Code)
	}
	if got.TraceID != tr.TraceID {
		t.Errorf("handler trace %q, want %q", got.TraceID, tr.TraceID)
	}
}

func TestPushTo(t *testing.T) {
	tests := []struct {
		name    string
		fail    bool
		wantErr bool
	}{
		{"acked", false, false},
		{"nacked", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *events.Message
			srv := httptest.NewServer(events.PushHandler(func(_ context.Context, m *events.Message) error {
				got = m
				if tt.fail {
					return errors.New("nope")
				}
				return nil
			}))
			defer srv.Close()
			want := &events.Message{ID: "9", Data: []byte("payload"), Attributes: map[string]string{"a": "b"}, DeliveryAttempt: 4, Subscription: "s"}
			err := events.PushTo(srv.Client(), srv.URL)(t.Context(), want)
			if (err != nil) != tt.wantErr {
				t.Fatalf("PushTo error = %v, want error %v", err, tt.wantErr)
			}
			if got == nil {
				t.Fatal("endpoint not called")
			}
			equalMessage(t, got, want)
		})
	}
}

func BenchmarkDecodePush(b *testing.B) {
	body := []byte(googleExample)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	rd := bytes.NewReader(body)
	r := &http.Request{Method: http.MethodPost, Body: io.NopCloser(rd)}
	for b.Loop() {
		rd.Reset(body)
		if _, err := events.DecodePush(r); err != nil {
			b.Fatal(err)
		}
	}
}
