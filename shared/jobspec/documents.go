package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/rules"
)

// present reports whether a raw JSON document is given (not empty, not
// null).
func present(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// HasRules reports whether req carries business rules.
func HasRules(req jobs.Request) bool { return present(req.Rules) }

// Rules parses req's rules document ({"rules": [...]}), or returns nil if
// it has none. Errors name the rule and its field ("rules[2].column").
func Rules(req jobs.Request) (*rules.File, error) { return parseRules(req.Rules) }

// Thresholds decodes req's release-gate override; nil means the defaults.
// Errors name the threshold ("thresholds.max_dcr_share").
func Thresholds(req jobs.Request) (*gate.Thresholds, error) {
	if !present(req.Thresholds) {
		return nil, nil
	}
	th, err := gate.Decode(bytes.NewReader(req.Thresholds))
	if err != nil {
		var ie *gate.InvalidError
		if errors.As(err, &ie) {
			if ie.Field == "" {
				return nil, fieldErr("thresholds", "%s", ie.Reason)
			}
			return nil, fieldErr("thresholds."+ie.Field, "%s", ie.Reason)
		}
		return nil, fieldErr("thresholds", "could not be read: %v", err)
	}
	return &th, nil
}

// ruleFields are the JSON names of a rule's fields.
var ruleFields = func() []string {
	rt := reflect.TypeFor[rules.Rule]()
	out := make([]string, 0, rt.NumField())
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}()

// parseRules checks a rules document: its shape here, so that every error
// names the rule and field at fault, then each rule with rules.Parse.
func parseRules(raw json.RawMessage) (*rules.File, error) {
	if !present(raw) {
		return nil, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fieldErr("rules", `must be a JSON object {"rules": [...]}`)
	}
	for k := range doc {
		if k != "rules" {
			return nil, fieldErr("rules", `has an unknown key %q: the document is {"rules": [...]}`, k)
		}
	}
	var list []json.RawMessage
	if !present(doc["rules"]) || json.Unmarshal(doc["rules"], &list) != nil {
		return nil, fieldErr("rules", `must hold a list of rules: {"rules": [...]}`)
	}
	for i, r := range list {
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		var rule rules.Rule
		if err := dec.Decode(&rule); err != nil {
			return nil, ruleDecodeError(i, err)
		}
	}
	f, err := rules.Parse(raw)
	if err != nil {
		return nil, rulesError(err)
	}
	return f, nil
}

// ruleDecodeError names the field of rule i that did not decode.
func ruleDecodeError(i int, err error) *FieldError {
	at := fmt.Sprintf("rules[%d]", i)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fieldErr(at, "must be a JSON object such as {\"type\": \"range\", \"column\": \"age\", \"min\": 18}")
	case errors.As(err, &te):
		want := "a string"
		switch te.Field {
		case "columns":
			want = "a list of column names"
		case "values":
			want = "a list of strings, numbers or booleans"
		case "required":
			want = "true or false"
		}
		return fieldErr(at+"."+te.Field, "must be %s", want)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(at+"."+name, "is not a rule field%s", errs.DidYouMean(name, ruleFields))
	case errors.Is(err, rules.ErrInvalid):
		// A constant (value, min, max, values) of the wrong JSON type.
		return fieldErr(at, "constants (value, min, max, values) must be strings, numbers or booleans")
	}
	return fieldErr(at, "is not valid JSON")
}

// ruleLabel finds the rule a rules error names first ("rules[2] …").
var ruleLabel = regexp.MustCompile(`^rules\[\d+\]`)

// rulesError turns an error of rules.Parse, rules.Compile or
// Set.Conditions into a FieldError on the rule it is about, or on "rules".
func rulesError(err error) *FieldError {
	var re *rules.RuleError
	if errors.As(err, &re) {
		return fieldErr(fmt.Sprintf("rules[%d]", re.Index), "%s", reason(re.Err))
	}
	msg := reason(err)
	field := "rules"
	if m := ruleLabel.FindString(msg); m != "" {
		field = m
	}
	if errors.Is(err, rules.ErrImpossible) {
		return fieldErr(field, "cannot be satisfied by any row: %s", msg)
	}
	return fieldErr(field, "%s", msg)
}

// reason is a rules error's text without the package's function names and
// sentinel texts, which mean nothing to the user.
func reason(err error) string {
	msg := err.Error()
	for _, p := range []string{"rules.Parse: ", "rules.Compile: ", "rules.Conditions: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	for _, s := range []error{rules.ErrInvalid, rules.ErrUnknownColumn, rules.ErrImpossible} {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}
