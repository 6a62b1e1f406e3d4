package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/jobs"
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

	Destination          json.RawMessage `json:"destination"`
	SecondaryDestination json.RawMessage `json:"secondary_destination"`

	// Kind and Policy make an anonymize job (see anonymizeBody).
	Kind            json.RawMessage `json:"kind"`
	Policy          json.RawMessage `json:"policy"`
	Design          json.RawMessage `json:"design_id"`
	DesignVersion   json.RawMessage `json:"design_version"`
	Narrative       json.RawMessage `json:"narrative"`
	Labels          json.RawMessage `json:"labels"`
	ModelID         json.RawMessage `json:"model_id"`
	ModelVersion    json.RawMessage `json:"model_version"`
	ModelCategories json.RawMessage `json:"model_categories"`
}

// DecodeJSON reads a job request as the API receives it (one JSON object)
// and validates it (Validate). Unset fields get their defaults: model tree,
// format csv. seedSet reports whether the client chose a seed. Errors are
// *FieldError, except a failure to read r, which is returned wrapped (an
// *http.MaxBytesError stays detectable with errors.As).
func DecodeJSON(r io.Reader) (req jobs.Request, seedSet bool, err error) {
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
	if req.Design, err = str(b.Design, "design_id", false); err != nil {
		return req, false, err
	}
	// A design job samples a saved spec: it has no dataset.
	if req.Dataset, err = str(b.Dataset, "dataset", req.Design == ""); err != nil {
		return req, false, err
	}
	if present(b.DesignVersion) {
		if req.DesignVersion, err = integer(b.DesignVersion, "design_version"); err != nil {
			return req, false, err
		}
	}
	if req.Narrative, err = boolean(b.Narrative, "narrative"); err != nil {
		return req, false, err
	}
	if req.Labels, err = boolean(b.Labels, "labels"); err != nil {
		return req, false, err
	}
	if req.Kind, err = kind(b.Kind); err != nil {
		return req, false, err
	}
	if req.Anonymizing() {
		if err := anonymizeBody(b, &req); err != nil {
			return req, false, err
		}
	} else {
		if req.Rows, err = integer(b.Rows, "rows"); err != nil {
			return req, false, err
		}
		if req.Model, err = str(b.Model, "model", false); err != nil {
			return req, false, err
		}
		if req.Model == "" {
			req.Model = "tree"
		}
		if present(b.Policy) {
			return req, false, fieldErr("policy", "applies to anonymize jobs only: set kind to %q, or leave policy out", jobs.KindAnonymize)
		}
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
	if req.Format, err = str(b.Format, "format", false); err != nil {
		return req, false, err
	}
	if req.Format == "" {
		req.Format = "csv"
	}
	if req.Target, err = str(b.Target, "target", false); err != nil {
		return req, false, err
	}
	if req.Destination, err = str(b.Destination, "destination", false); err != nil {
		return req, false, err
	}
	if req.SecondaryDestination, err = str(b.SecondaryDestination, "secondary_destination", false); err != nil {
		return req, false, err
	}
	if req.Epsilon, err = number(b.Epsilon, "epsilon"); err != nil {
		return req, false, err
	}
	if err := pinnedModel(&req, b); err != nil {
		return req, false, err
	}
	if req.Delta, err = number(b.Delta, "delta"); err != nil {
		return req, false, err
	}
	if err := Validate(req); err != nil {
		return req, false, err
	}
	return req, seedSet, nil
}

func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return fieldErr("body", "is empty; send a JSON object")
	case errors.As(err, &te):
		if te.Field == "" {
			return fieldErr("body", "must be a JSON object")
		}
		return fieldErr(te.Field, "has the wrong type")
	case errors.As(err, &se):
		return fieldErr("body", "is not valid JSON (at byte %d)", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("body", "is cut short; send a whole JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "is not a known field")
	}
	return fmt.Errorf("read the job request: %w", err)
}

// pinnedModel reads model_id, model_version and model_categories.
func pinnedModel(req *jobs.Request, b jobBody) (err error) {
	if req.ModelID, err = str(b.ModelID, "model_id", false); err != nil {
		return err
	}
	if present(b.ModelVersion) {
		n, err := integer(b.ModelVersion, "model_version")
		if err != nil || n < 1 || n > math.MaxInt32 {
			return fieldErr("model_version", "must be an integer from 1 (a version of model_id's model), or left out for model_id itself")
		}
		req.ModelVersion = int(n)
	}
	if present(b.ModelCategories) {
		if err := json.Unmarshal(b.ModelCategories, &req.ModelCategories); err != nil {
			return fieldErr("model_categories", "must be an object of feature: [categories in the model's code order]")
		}
	}
	return nil
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
	case len(s) > MaxText:
		return "", fieldErr(field, "must be at most %d characters", MaxText)
	}
	return s, nil
}

func integer(m json.RawMessage, field string) (int64, error) {
	if !present(m) {
		return 0, fieldErr(field, "is required")
	}
	var n json.Number
	if err := json.Unmarshal(m, &n); err != nil || !numeric(m) {
		return 0, fieldErr(field, "must be an integer")
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, fieldErr(field, "must be an integer from 1 to %d", MaxRows)
	}
	return v, nil
}

func boolean(m json.RawMessage, field string) (bool, error) {
	if !present(m) {
		return false, nil
	}
	var v bool
	if err := json.Unmarshal(m, &v); err != nil {
		return false, fieldErr(field, "must be true or false")
	}
	return v, nil
}

func number(m json.RawMessage, field string) (float64, error) {
	if !present(m) {
		return 0, nil
	}
	var v float64
	if err := json.Unmarshal(m, &v); err != nil || !numeric(m) {
		return 0, fieldErr(field, "must be a number")
	}
	return v, nil
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
	out := make(map[string]string, len(raw))
	for col, v := range raw {
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
			return nil, fieldErr("conditions."+col, "must be a string, number or boolean")
		}
	}
	return out, nil
}

// Upload metadata keys (custom object metadata, x-goog-meta-<key> when
// uploading) that set the options of a job created from an upload.
const (
	MetaRows       = "rows"       // rows to generate; default: as many as the upload has
	MetaModel      = "model"      // tree (default), copula or dp
	MetaSeed       = "seed"       // default 1
	MetaFormat     = "format"     // output: csv (default), jsonl or parquet
	MetaTarget     = "target"     // ML-efficacy target column
	MetaEpsilon    = "epsilon"    // dp budget
	MetaDelta      = "delta"      // dp delta
	MetaConditions = "conditions" // JSON object column → value
	MetaRules      = "rules"      // JSON rules document
	MetaThresholds = "thresholds" // JSON gate overrides
	// A custom model pinned to the job, as POST /v1/jobs takes it: the
	// job's output is scored by the model (checked against the upload's
	// columns when the job is created). model_categories is the JSON
	// object {feature: [categories in the model's code order]}.
	MetaModelID         = "model_id"
	MetaModelVersion    = "model_version"
	MetaModelCategories = "model_categories"
	// An anonymize job: kind=anonymize, and its policy as the JSON
	// document POST /v1/jobs and `synthos anonymize --policy` take, and/or
	// the shorthands k, l, quasi and sensitive (comma-separated column
	// names), as `synthos anonymize --k --l --quasi --sensitive`. A
	// shorthand and the same field of the policy document may not both be
	// set. No rows or model: the job keeps the upload's own rows.
	MetaKind      = "kind"
	MetaPolicy    = "policy"
	MetaK         = "k"
	MetaL         = "l"
	MetaQuasi     = "quasi"
	MetaSensitive = "sensitive"
)

// ParseMetadata reads a job request from an upload's object metadata (keys
// matched without regard to case, values trimmed) and validates it like
// Validate, except that rows may be left out: 0 means as many rows as the
// upload has. The request holds every option that parsed; the error, a
// *FieldError named after the metadata key, says what did not.
func ParseMetadata(meta map[string]string) (jobs.Request, error) {
	get := func(k string) string {
		for mk, v := range meta {
			if strings.EqualFold(mk, k) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	req := jobs.Request{Model: "tree", Seed: 1, Format: "csv"}
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	if v := get(MetaRows); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fail(fieldErr(MetaRows, "%q is not an integer: use 1 to %d, or leave it out for as many rows as the upload has", v, MaxRows))
		}
		req.Rows = n
	}
	if v := get(MetaModel); v != "" {
		req.Model = strings.ToLower(v)
	}
	if v := get(MetaSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fail(fieldErr(MetaSeed, "%q is not an integer from 0 to %d", v, uint64(math.MaxUint64)))
		}
		req.Seed = n
	}
	if v := get(MetaFormat); v != "" {
		req.Format = strings.ToLower(v)
	}
	req.Target = get(MetaTarget)
	for _, f := range []struct {
		key string
		dst *float64
	}{{MetaEpsilon, &req.Epsilon}, {MetaDelta, &req.Delta}} {
		if v := get(f.key); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fail(fieldErr(f.key, "%q is not a number", v))
			}
			*f.dst = x
		}
	}
	if v := get(MetaConditions); v != "" {
		c, err := conditions(json.RawMessage(v))
		if err != nil {
			fail(err)
		}
		req.Conditions = c
	}
	for _, f := range []struct {
		key string
		dst *json.RawMessage
	}{{MetaRules, &req.Rules}, {MetaThresholds, &req.Thresholds}} {
		if v := get(f.key); v != "" {
			raw, err := object(json.RawMessage(v), f.key)
			if err != nil {
				fail(err)
				continue
			}
			*f.dst = raw
		}
	}
	if err := metadataModel(get, &req); err != nil {
		fail(err)
	}
	if err := metadataKind(get, &req); err != nil {
		fail(err)
	}
	if first != nil {
		return req, first
	}
	return req, validate(req, true)
}

// metadataModel reads the pinned model's keys into req with the body's
// rules (pinnedModel): the values are what the JSON body's fields hold,
// model_version an integer from 1 and model_categories a JSON object.
func metadataModel(get func(string) string, req *jobs.Request) error {
	var b jobBody
	if v := get(MetaModelID); v != "" {
		b.ModelID, _ = json.Marshal(v) // ids are case-sensitive: not jsonString
	}
	if v := get(MetaModelVersion); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fieldErr(MetaModelVersion, "%q is not an integer: use 1 or more (a version of model_id's model), or leave it out for model_id itself", v)
		}
		b.ModelVersion = json.RawMessage(v)
	}
	if v := get(MetaModelCategories); v != "" {
		b.ModelCategories = json.RawMessage(v)
	}
	return pinnedModel(req, b)
}

// metadataKind reads the kind and, for an anonymize job, its policy from
// upload metadata into req; the anonymisation keys on a synthetic job are
// refused rather than ignored.
func metadataKind(get func(string) string, req *jobs.Request) error {
	// The metadata key is the body's field name, so kind's error names it.
	k, err := kind(jsonString(get(MetaKind)))
	if err != nil {
		return err
	}
	req.Kind = k
	if !req.Anonymizing() {
		for _, key := range []string{MetaPolicy, MetaK, MetaL, MetaQuasi, MetaSensitive} {
			if get(key) != "" {
				return fieldErr(key, "applies to anonymize jobs only: set kind to %q, or leave %s out", jobs.KindAnonymize, key)
			}
		}
		return nil
	}
	switch {
	case get(MetaRows) != "":
		return fieldErr(MetaRows, "applies to synthetic jobs only: an anonymize job de-identifies the upload's own rows; leave rows out")
	case get(MetaModel) != "":
		return fieldErr(MetaModel, "applies to synthetic jobs only: an anonymize job fits no model; leave model out")
	}
	req.Model = "" // the synthetic default does not apply
	pol := &anonymize.Policy{}
	if v := get(MetaPolicy); v != "" {
		if pol, err = decodePolicy(json.RawMessage(v)); err != nil {
			return err
		}
	}
	shorthand := false
	for _, f := range []struct {
		key string
		dst *int
	}{{MetaK, &pol.K}, {MetaL, &pol.L}} {
		v := get(f.key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return fieldErr(f.key, "%q is not an integer", v)
		case *f.dst != 0:
			return fieldErr(f.key, "is also set in policy: set it in one place")
		}
		*f.dst, shorthand = n, true
	}
	for _, f := range []struct {
		key string
		dst *[]string
	}{{MetaQuasi, &pol.Quasi}, {MetaSensitive, &pol.Sensitive}} {
		v := get(f.key)
		if v == "" {
			continue
		}
		if len(*f.dst) > 0 {
			return fieldErr(f.key, "is also set in policy: set it in one place")
		}
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c == "" {
				return fieldErr(f.key, "%q has an empty column name: list columns separated by commas", v)
			}
			*f.dst = append(*f.dst, c)
		}
		shorthand = true
	}
	if get(MetaPolicy) != "" || shorthand {
		req.Policy = pol
	}
	return nil
}

// jsonString quotes s as a JSON string ("" stays absent).
func jsonString(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	b, _ := json.Marshal(strings.ToLower(s))
	return b
}

// kind reads the job's kind: "" or "synthetic" (stored as "") or
// "anonymize".
func kind(m json.RawMessage) (string, error) {
	k, err := str(m, "kind", false)
	if err != nil {
		return "", err
	}
	switch k {
	case "", jobs.KindSynthetic:
		return "", nil
	case jobs.KindAnonymize:
		return k, nil
	}
	return "", fieldErr("kind", "%q is an unknown kind; use %s or %s", k, jobs.KindSynthetic, jobs.KindAnonymize)
}

// anonymizeBody reads what an anonymize job takes beside the common
// fields: no rows (it keeps every real row of the training split) and no
// model, and the policy (shared/anonymize's Policy, the document `synthos
// anonymize --policy` reads), strictly: an unknown field is refused.
func anonymizeBody(b jobBody, req *jobs.Request) error {
	if present(b.Rows) {
		return fieldErr("rows", "applies to synthetic jobs only: an anonymize job de-identifies the dataset's own rows; leave rows out")
	}
	if present(b.Model) {
		return fieldErr("model", "applies to synthetic jobs only: an anonymize job fits no model; leave model out")
	}
	if !present(b.Policy) {
		return nil
	}
	pol, err := decodePolicy(b.Policy)
	if err != nil {
		return err
	}
	req.Policy = pol
	return nil
}

// decodePolicy reads an anonymisation policy (shared/anonymize's Policy)
// strictly: an unknown field is refused, so a typo is not silently lost.
func decodePolicy(raw json.RawMessage) (*anonymize.Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var pol anonymize.Policy
	if err := dec.Decode(&pol); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fieldErr("policy."+te.Field, "has the wrong type")
		}
		return nil, fieldErr("policy", "is not a valid anonymisation policy: %v", err)
	}
	if dec.More() {
		return nil, fieldErr("policy", "must hold exactly one JSON object")
	}
	return &pol, nil
}
