package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/jobs"
)

// Limits of a job request.
const (
	MaxRows       = 1_000_000_000
	MaxEpsilon    = 100.0
	MaxConditions = 100
)

// Models and formats a job may ask for.
var (
	Models  = []string{"tree", "copula", "dp"}
	Formats = []string{"csv", "jsonl", "parquet"}
)

// jobBody is the wire form of POST /v1/jobs. Fields are raw so that each
// one's error names it precisely.
type jobBody struct {
	Dataset    json.RawMessage `json:"dataset"`
	Rows       json.RawMessage `json:"rows"`
	Model      json.RawMessage `json:"model"`
	Seed       json.RawMessage `json:"seed"`
	Rules      json.RawMessage `json:"rules"`
	Conditions json.RawMessage `json:"conditions"`
	Epsilon    json.RawMessage `json:"epsilon"`
	Delta      json.RawMessage `json:"delta"`
	Format     json.RawMessage `json:"format"`
	Target     json.RawMessage `json:"target"`
	Thresholds json.RawMessage `json:"thresholds"`
}

// DecodeJobRequest reads and validates a job request. Errors are
// *FieldError (400) naming the field; seedSet reports whether the client
// chose a seed.
func DecodeJobRequest(r io.Reader) (req jobs.Request, seedSet bool, err error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var b jobBody
	if err := dec.Decode(&b); err != nil {
		return req, false, bodyError(err)
	}
	if dec.More() {
		return req, false, fieldErr("body", "must hold exactly one JSON object")
	}
	if req.Dataset, err = str(b.Dataset, "dataset", true); err != nil {
		return req, false, err
	}
	if req.Rows, err = integer(b.Rows, "rows", true, 1, MaxRows); err != nil {
		return req, false, err
	}
	if req.Model, err = enum(b.Model, "model", Models, "tree"); err != nil {
		return req, false, err
	}
	if present(b.Seed) {
		n, ok := new(json.Number), false
		if err := json.Unmarshal(b.Seed, n); err == nil && numeric(b.Seed) {
			var u uint64
			u, err = strconv.ParseUint(n.String(), 10, 64)
			req.Seed, ok = u, err == nil
		}
		if !ok {
			return req, false, fieldErr("seed", "must be an integer from 0 to %d", uint64(math.MaxUint64))
		}
		seedSet = true
	}
	if req.Rules, err = object(b.Rules, "rules"); err != nil {
		return req, false, err
	}
	if req.Thresholds, err = object(b.Thresholds, "thresholds"); err != nil {
		return req, false, err
	}
	if req.Conditions, err = conditions(b.Conditions); err != nil {
		return req, false, err
	}
	if req.Format, err = enum(b.Format, "format", Formats, "csv"); err != nil {
		return req, false, err
	}
	if req.Target, err = str(b.Target, "target", false); err != nil {
		return req, false, err
	}
	eps, err := number(b.Epsilon, "epsilon")
	if err != nil {
		return req, false, err
	}
	delta, err := number(b.Delta, "delta")
	if err != nil {
		return req, false, err
	}
	switch {
	case req.Model == "dp" && !present(b.Epsilon):
		return req, false, fieldErr("epsilon", "is required with model dp (the privacy budget, e.g. 1.0)")
	case req.Model != "dp" && (present(b.Epsilon) || present(b.Delta)):
		f := "epsilon"
		if !present(b.Epsilon) {
			f = "delta"
		}
		return req, false, fieldErr(f, "applies to model dp only")
	case present(b.Epsilon) && (eps <= 0 || eps > MaxEpsilon):
		return req, false, fieldErr("epsilon", "must be greater than 0 and at most %g", MaxEpsilon)
	case present(b.Delta) && (delta <= 0 || delta >= 1):
		return req, false, fieldErr("delta", "must be greater than 0 and less than 1")
	}
	req.Epsilon, req.Delta = eps, delta
	return req, seedSet, nil
}

func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: the body is larger than %d bytes", ErrTooLarge, mbe.Limit)
	case errors.Is(err, io.EOF):
		return fieldErr("body", "is empty; send a JSON object")
	case errors.As(err, &te):
		if te.Field == "" {
			return fieldErr("body", "must be a JSON object")
		}
		return fieldErr(te.Field, "has the wrong type")
	case errors.As(err, &se):
		return fieldErr("body", "is not valid JSON (at byte %d)", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "is not a known field")
	}
	return fieldErr("body", "could not be read: %v", err)
}

func present(m json.RawMessage) bool {
	return len(m) > 0 && !bytes.Equal(bytes.TrimSpace(m), []byte("null"))
}

// numeric reports whether m is a JSON number literal (json.Number also
// accepts a quoted number, which a typed API should refuse).
func numeric(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) > 0 && t[0] != '"'
}

func str(m json.RawMessage, field string, required bool) (string, error) {
	if !present(m) {
		if required {
			return "", fieldErr(field, "is required")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		return "", fieldErr(field, "must be a string")
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", fieldErr(field, "must not be empty")
	case len(s) > 1024:
		return "", fieldErr(field, "must be at most 1024 characters")
	}
	return s, nil
}

func integer(m json.RawMessage, field string, required bool, lo, hi int64) (int64, error) {
	if !present(m) {
		if required {
			return 0, fieldErr(field, "is required")
		}
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(m, &n); err != nil || !numeric(m) {
		return 0, fieldErr(field, "must be an integer")
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, fieldErr(field, "must be an integer from %d to %d", lo, hi)
	}
	return v, nil
}

func number(m json.RawMessage, field string) (float64, error) {
	if !present(m) {
		return 0, nil
	}
	var v float64
	if err := json.Unmarshal(m, &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fieldErr(field, "must be a number")
	}
	return v, nil
}

func enum(m json.RawMessage, field string, allowed []string, def string) (string, error) {
	s, err := str(m, field, false)
	if err != nil {
		return "", err
	}
	if s == "" {
		return def, nil
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", fieldErr(field, "must be one of %s", strings.Join(allowed, ", "))
}

func object(m json.RawMessage, field string) (json.RawMessage, error) {
	if !present(m) {
		return nil, nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(m, &v); err != nil {
		return nil, fieldErr(field, "must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return nil, fieldErr(field, "must be a JSON object")
	}
	return buf.Bytes(), nil
}

// conditions accepts {"column": value} where value is a string, number or
// boolean, kept as text (numbers as written).
func conditions(m json.RawMessage) (map[string]string, error) {
	if !present(m) {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(m, &raw); err != nil {
		return nil, fieldErr("conditions", "must be an object of column: value")
	}
	if len(raw) > MaxConditions {
		return nil, fieldErr("conditions", "must name at most %d columns", MaxConditions)
	}
	out := make(map[string]string, len(raw))
	for col, v := range raw {
		f := "conditions." + col
		if strings.TrimSpace(col) == "" {
			return nil, fieldErr("conditions", "column names must not be empty")
		}
		var s string
		var n json.Number
		var b bool
		switch {
		case json.Unmarshal(v, &s) == nil:
			out[col] = s
		case json.Unmarshal(v, &n) == nil:
			out[col] = n.String()
		case json.Unmarshal(v, &b) == nil:
			out[col] = strconv.FormatBool(b)
		default:
			return nil, fieldErr(f, "must be a string, number or boolean")
		}
	}
	return out, nil
}
