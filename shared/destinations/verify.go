package destinations

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"google.golang.org/api/googleapi"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/objects"
)

// ProbePrefix is where verification writes its probe objects.
const ProbePrefix = ".synthos-probe/"

// permissions names, per provider and step, what the credential lacks when
// the step is refused.
var permissions = map[string]map[string]string{
	"gs": {
		"write": "storage.objects.create (roles/storage.objectCreator)",
		"read":  "storage.objects.get (roles/storage.objectViewer)",
		"delete": "storage.objects.delete (roles/storage.objectUser, " +
			"or objectAdmin)",
	},
	"s3": {"write": "s3:PutObject", "read": "s3:GetObject", "delete": "s3:DeleteObject"},
	"azblob": {
		"write":  "write/create on blobs (Storage Blob Data Contributor, or a SAS with c and w)",
		"read":   "read on blobs (Storage Blob Data Reader, or a SAS with r)",
		"delete": "delete on blobs (Storage Blob Data Contributor, or a SAS with d)",
	},
}

// Verify writes, reads back and deletes a probe object in b. A refused step
// is an error wrapping ErrVerify that names the step and the permission the
// credential is missing; the probe is removed whenever it was written.
func Verify(ctx context.Context, d Destination, b *blob.Bucket) error {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("destinations: probe: %w", err)
	}
	key := ProbePrefix + hex.EncodeToString(rnd[:])
	body := []byte("synthos destination probe " + key)
	if err := objects.Put(ctx, b, key, func(w io.Writer) error { _, err := w.Write(body); return err },
		&blob.WriterOptions{ContentType: "text/plain"}); err != nil {
		return stepError(d, "write", key, err)
	}
	got, err := b.ReadAll(ctx, key)
	if err != nil {
		_ = b.Delete(ctx, key)
		return stepError(d, "read", key, err)
	}
	if !bytes.Equal(got, body) {
		_ = b.Delete(ctx, key)
		return fmt.Errorf("%w: %s: the probe object read back differs from what was written", ErrVerify, d.Name)
	}
	if err := b.Delete(ctx, key); err != nil {
		return stepError(d, "delete", key, err)
	}
	return nil
}

func stepError(d Destination, step, key string, err error) error {
	code := gcerrors.Code(err)
	if status(err) == http.StatusForbidden {
		code = gcerrors.PermissionDenied
	}
	switch code {
	case gcerrors.PermissionDenied:
		return fmt.Errorf("%w: %s: cannot %s %s: the credential lacks %s", ErrVerify, d.Name, step, key, permission(d.Provider(), step))
	case gcerrors.NotFound:
		if step == "write" {
			return fmt.Errorf("%w: %s: bucket %q does not exist or is not visible to the credential", ErrVerify, d.Name, d.Bucket())
		}
	}
	return fmt.Errorf("%w: %s: %s %s: %v", ErrVerify, d.Name, step, key, err)
}

// status digs the HTTP status out of a provider's error, for the refusals
// a driver does not map to gcerrors.PermissionDenied (azureblob answers
// Unknown for a 403).
func status(err error) int {
	var az *azcore.ResponseError
	if errors.As(err, &az) {
		return az.StatusCode
	}
	var aws *smithyhttp.ResponseError
	if errors.As(err, &aws) {
		return aws.HTTPStatusCode()
	}
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g.Code
	}
	return 0
}

func permission(provider, step string) string {
	if p := permissions[provider][step]; p != "" {
		return p
	}
	return step + " permission"
}
