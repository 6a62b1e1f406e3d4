package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"synthos.dev/synthos/shared/obs"
)

// TypeObjectFinalized is the CloudEvent type Eventarc sends when an object is
// created (or overwritten) in a Cloud Storage bucket.
const TypeObjectFinalized = "google.cloud.storage.object.v1.finalized"

// StorageObject is the part of Google's StorageObjectData that ingestion
// needs.
type StorageObject struct {
	Bucket      string
	Name        string
	ContentType string
	Size        int64
	// Generation identifies this version of the object; with Bucket and Name
	// it makes a stable dedupe key for the upload.
	Generation  string
	Metadata    map[string]string
	TimeCreated time.Time
	MD5Hash     string
	CRC32C      string
}

// storageObjectData mirrors google.events.cloud.storage.v1.StorageObjectData
// in its JSON form, where int64 fields such as size are strings.
type storageObjectData struct {
	Bucket      string            `json:"bucket"`
	Name        string            `json:"name"`
	ContentType string            `json:"contentType"`
	Size        numString         `json:"size"`
	Generation  numString         `json:"generation"`
	Metadata    map[string]string `json:"metadata"`
	TimeCreated string            `json:"timeCreated"`
	MD5Hash     string            `json:"md5Hash"`
	CRC32C      string            `json:"crc32c"`
}

// numString decodes an int64 field of proto3 JSON, written as a string
// ("4154") or, leniently, as a number, keeping its decimal text.
type numString string

func (n *numString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = ""
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s != "" {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("not an int64: %s", b)
		}
	}
	*n = numString(s)
	return nil
}

// DecodeStorageEvent decodes an Eventarc Cloud Storage "finalized" event,
// the event functions-framework-go passes to a CloudEvent function. Errors
// wrap ErrBadEvent.
func DecodeStorageEvent(e event.Event) (*StorageObject, error) {
	if e.Type() != TypeObjectFinalized {
		return nil, fmt.Errorf("events.DecodeStorageEvent: %w: type %q, want %q", ErrBadEvent, e.Type(), TypeObjectFinalized)
	}
	if mt := e.DataMediaType(); mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, fmt.Errorf("events.DecodeStorageEvent: %w: data content type %q is not JSON", ErrBadEvent, mt)
	}
	var d storageObjectData
	if err := json.Unmarshal(e.Data(), &d); err != nil {
		return nil, fmt.Errorf("events.DecodeStorageEvent %s: %w: %w", e.ID(), ErrBadEvent, err)
	}
	if d.Bucket == "" || d.Name == "" {
		return nil, fmt.Errorf("events.DecodeStorageEvent %s: %w: missing bucket or object name", e.ID(), ErrBadEvent)
	}
	var size int64
	if d.Size != "" {
		size, _ = strconv.ParseInt(string(d.Size), 10, 64) // validated while decoding
	}
	if size < 0 {
		return nil, fmt.Errorf("events.DecodeStorageEvent %s: %w: negative size", e.ID(), ErrBadEvent)
	}
	o := &StorageObject{
		Bucket:      d.Bucket,
		Name:        d.Name,
		ContentType: d.ContentType,
		Size:        size,
		Generation:  string(d.Generation),
		Metadata:    d.Metadata,
		MD5Hash:     d.MD5Hash,
		CRC32C:      d.CRC32C,
	}
	if d.TimeCreated != "" {
		t, err := time.Parse(time.RFC3339Nano, d.TimeCreated)
		if err != nil {
			return nil, fmt.Errorf("events.DecodeStorageEvent %s: %w: timeCreated: %w", e.ID(), ErrBadEvent, err)
		}
		o.TimeCreated = t
	}
	return o, nil
}

// EventContext returns ctx carrying the trace of a CloudEvent (Eventarc sets
// the "traceparent" extension), or a new trace, as obs.ExtractAttributes does
// for messages.
func EventContext(ctx context.Context, e event.Event) context.Context {
	tp, _ := e.Extensions()[obs.AttrTraceparent].(string)
	return obs.ExtractAttributes(ctx, map[string]string{obs.AttrTraceparent: tp})
}
