package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
)

// MaxRows is the most rows one job may ask for (see jobspec).
const MaxRows = jobspec.MaxRows

// DecodeJobRequest reads and validates a job request with jobspec, the one
// validator the API, upload-created jobs and the CLI share. Errors are
// *FieldError (400) naming the field, or ErrTooLarge for a body over the
// limit; seedSet reports whether the client chose a seed.
func DecodeJobRequest(r io.Reader) (req jobs.Request, seedSet bool, err error) {
	req, seedSet, err = jobspec.DecodeJSON(r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return req, false, fmt.Errorf("%w: the body is larger than %d bytes", ErrTooLarge, mbe.Limit)
	}
	return req, seedSet, err
}
