package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
)

// googleObject is the StorageObjectData example from Google's Eventarc docs
// for Cloud Storage events (size and generation are strings).
const googleObject = `{
  "bucket": "sample-bucket",
  "contentType": "text/plain",
  "crc32c": "rTVTeQ==",
  "etag": "CNHZkbuF/ugCEAE=",
  "generation": "1587627537231057",
  "id": "sample-bucket/folder/Test.cs/1587627537231057",
  "kind": "storage#object",
  "md5Hash": "kF8MuJ5+CTJxvyhHS1xzRg==",
  "mediaLink": "https://www.googleapis.com/download/storage/v1/b/sample-bucket/o/folder%2FTest.cs?generation=1587627537231057\u0026alt=media",
  "metageneration": "1",
  "metadata": {"tenant": "t-1"},
  "name": "folder/Test.cs",
  "selfLink": "https://www.googleapis.com/storage/v1/b/sample-bucket/o/folder/Test.cs",
  "size": "352",
  "storageClass": "MULTI_REGIONAL",
  "timeCreated": "2020-04-23T07:38:57.230Z",
  "timeStorageClassUpdated": "2020-04-23T07:38:57.230Z",
  "updated": "2020-04-23T07:38:57.230Z"
}`

func storageEvent(t *testing.T, typ, contentType, data string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID("1234567890")
	e.SetSource("//storage.googleapis.com/projects/_/buckets/sample-bucket")
	e.SetType(typ)
	e.SetSubject("objects/folder/Test.cs")
	e.SetTime(time.Date(2020, 4, 23, 7, 38, 57, 772e6, time.UTC))
	if contentType != "" {
		e.SetDataContentType(contentType)
	}
	e.DataEncoded = []byte(data)
	return e
}

func TestDecodeStorageEvent(t *testing.T) {
	want := events.StorageObject{
		Bucket: "sample-bucket", Name: "folder/Test.cs", ContentType: "text/plain", Size: 352,
		Generation: "1587627537231057", Metadata: map[string]string{"tenant": "t-1"},
		TimeCreated: time.Date(2020, 4, 23, 7, 38, 57, 230e6, time.UTC),
		MD5Hash:     "kF8MuJ5+CTJxvyhHS1xzRg==", CRC32C: "rTVTeQ==",
	}
	tests := []struct {
		name        string
		typ         string
		contentType string
		data        string
		want        *events.StorageObject
	}{
		{"google example", events.TypeObjectFinalized, "application/json", googleObject, &want},
		{"no content type", events.TypeObjectFinalized, "", googleObject, &want},
		{"numeric size", events.TypeObjectFinalized, "application/json",
			`{"bucket":"b","name":"n","size":12,"generation":34}`,
			&events.StorageObject{Bucket: "b", Name: "n", Size: 12, Generation: "34"}},
		{"wrong type", "google.cloud.storage.object.v1.deleted", "application/json", googleObject, nil},
		{"not json content", events.TypeObjectFinalized, "application/protobuf", googleObject, nil},
		{"not json", events.TypeObjectFinalized, "application/json", `nope`, nil},
		{"no data", events.TypeObjectFinalized, "application/json", ``, nil},
		{"no bucket", events.TypeObjectFinalized, "application/json", `{"name":"n","size":"1"}`, nil},
		{"no name", events.TypeObjectFinalized, "application/json", `{"bucket":"b","size":"1"}`, nil},
		{"bad size", events.TypeObjectFinalized, "application/json", `{"bucket":"b","name":"n","size":"big"}`, nil},
		{"negative size", events.TypeObjectFinalized, "application/json", `{"bucket":"b","name":"n","size":"-1"}`, nil},
		{"bad time", events.TypeObjectFinalized, "application/json", `{"bucket":"b","name":"n","timeCreated":"noon"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := events.DecodeStorageEvent(storageEvent(t, tt.typ, tt.contentType, tt.data))
			if tt.want == nil {
				if !errors.Is(err, events.ErrBadEvent) {
					t.Fatalf("DecodeStorageEvent error = %v, want ErrBadEvent", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeStorageEvent: %v", err)
			}
			if got.Bucket != tt.want.Bucket || got.Name != tt.want.Name || got.ContentType != tt.want.ContentType ||
				got.Size != tt.want.Size || got.Generation != tt.want.Generation || !got.TimeCreated.Equal(tt.want.TimeCreated) ||
				got.MD5Hash != tt.want.MD5Hash || got.CRC32C != tt.want.CRC32C || len(got.Metadata) != len(tt.want.Metadata) {
				t.Fatalf("object = %+v, want %+v", got, tt.want)
			}
			for k, v := range tt.want.Metadata {
				if got.Metadata[k] != v {
					t.Errorf("metadata %q = %q, want %q", k, got.Metadata[k], v)
				}
			}
		})
	}
}

func TestEventContext(t *testing.T) {
	tr := obs.NewTrace()
	e := storageEvent(t, events.TypeObjectFinalized, "application/json", googleObject)
	e.SetExtension("traceparent", tr.Traceparent())
	got, ok := obs.TraceFrom(events.EventContext(context.Background(), e))
	if !ok || got.TraceID != tr.TraceID {
		t.Errorf("trace %+v, want trace id %s", got, tr.TraceID)
	}

	plain := storageEvent(t, events.TypeObjectFinalized, "application/json", googleObject)
	got, ok = obs.TraceFrom(events.EventContext(context.Background(), plain))
	if !ok || got.TraceID == tr.TraceID {
		t.Errorf("event without traceparent: trace %+v, want a fresh one", got)
	}
}
