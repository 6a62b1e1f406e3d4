// Package jsonbody is Coraza's JSON request body processor (coraza v3.8.1,
// internal/bodyprocessors/json.go, Apache-2.0, the OWASP Coraza
// contributors) without its per-request 32 KiB copy buffer.
//
// Coraza's processor reads the body with io.Copy into a strings.Builder:
// neither its body reader nor the builder offers WriteTo or ReadFrom, so
// io.Copy allocates and clears a 32 KiB buffer on every JSON request, for
// bodies of a few hundred bytes (40% of the bytes a JSON job's inspection
// allocates, and the garbage collection they cost). This one reads the body
// with io.ReadAll and otherwise does what Coraza's does: the same
// flattening (keys "json.a.0.b", array lengths under the array's key), the
// same limits (nesting depth, SecArgumentsLimit, the byte budget of the
// flattened form), the same errors, the same ARGS_POST values per key in
// the same order, ARGUMENTS_LIMIT_REACHED and TX:json_request_body.
//
// TestMatchesCoraza compares it with Coraza's own processor through
// transactions; FuzzMatchesCoraza on random bodies.
package jsonbody

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/tidwall/gjson"
)

// Processor is the JSON request body processor.
type Processor struct{}

var _ plugintypes.BodyProcessor = Processor{}

// setter is Coraza's ARGUMENTS_LIMIT_REACHED collection (a Single with Set).
type setter interface{ Set(string) }

// ProcessRequest flattens the body into ARGS_POST.
func (Processor) ProcessRequest(reader io.Reader, v plugintypes.TransactionVariables, bpo plugintypes.BodyProcessorOptions) error {
	b, err := io.ReadAll(reader)
	if err != nil {
		return err
	}
	ss := string(b)
	col := v.ArgsPost()
	data := map[string][]string{}
	truncated, err := readJSON(ss, bpo.RequestBodyRecursionLimit, bpo.ArgumentLimit, func(k, v string) {
		data[k] = append(data[k], v)
	})
	// ARGS_POST holds what was read before any error (a best-effort
	// inspection of the payload), added from the map as Coraza does: the
	// values of two keys that differ only in case (one entry of ARGS_POST)
	// come key by key, in the map's order.
	for key, values := range data {
		for _, value := range values {
			col.Add(key, value)
		}
	}
	if truncated {
		if s, ok := v.ArgumentsLimitReached().(setter); ok {
			s.Set("1")
		}
	}
	if err != nil {
		return err
	}
	if txVar := v.TX(); txVar != nil {
		txVar.Set("json_request_body", []string{ss})
	}
	return nil
}

// ProcessResponse is not used: response bodies are not inspected.
func (Processor) ProcessResponse(io.Reader, plugintypes.TransactionVariables, plugintypes.BodyProcessorOptions) error {
	return errors.New("jsonbody: response bodies are not processed")
}

// flattenBytesFactor and flattenBytesFloor bound the flattened form
// relative to the body (Coraza's values).
const (
	flattenBytesFactor = 8
	flattenBytesFloor  = 4096
)

var errFlattenBudget = errors.New("flattened json exceeds its byte budget")

// readJSON flattens s, adding each value under its key, stopping once
// argumentLimit values have been added (<= 0: no limit). As Coraza's
// readJSON.
func readJSON(s string, maxRecursion int, argumentLimit int, add func(k, v string)) (truncated bool, err error) {
	key := []byte("json")
	byteBudget := len(s) * flattenBytesFactor
	if byteBudget < flattenBytesFloor {
		byteBudget = flattenBytesFloor
	}
	json := gjson.Parse(s)
	usedBytes, argCount, lenCount := 0, 0, 0
	truncated, err = readItems(json, key, maxRecursion, argumentLimit, byteBudget, &usedBytes, &argCount, &lenCount, add)
	if errors.Is(err, errFlattenBudget) {
		return truncated, fmt.Errorf("flattened form exceeds the %d byte budget for a %d byte body", byteBudget, len(s))
	}
	if err != nil {
		return truncated, err
	}
	if jsonNestingExceedsLimit(s, maxRecursion) {
		return truncated, errors.New("max recursion reached while reading json object")
	}
	if !gjson.Valid(s) {
		return truncated, errors.New("invalid JSON")
	}
	return truncated, nil
}

// jsonNestingExceedsLimit reports whether s nests containers deeper than
// limit, without recursion (Coraza's).
func jsonNestingExceedsLimit(s string, limit int) bool {
	depth := 0
	inString := false
	escaped := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// readItems is Coraza's, adding each value where Coraza appends it to its
// map.
func readItems(json gjson.Result, objKey []byte, maxRecursion int, argumentLimit int, byteBudget int, usedBytes *int, argCount *int, lenCount *int, add func(k, v string)) (truncated bool, err error) {
	if argumentLimit > 0 && *argCount >= argumentLimit {
		return true, nil
	}
	arrayLen := 0
	var iterationError error
	iterationTruncated := false
	if maxRecursion <= 0 {
		return false, errors.New("max recursion reached while reading json object")
	}
	json.ForEach(func(key, value gjson.Result) bool {
		if argumentLimit > 0 && *argCount >= argumentLimit {
			iterationTruncated = true
			return false
		}
		prevParentLength := len(objKey)
		objKey = append(objKey, '.')
		if key.Type == gjson.String {
			objKey = append(objKey, key.Str...)
		} else {
			objKey = strconv.AppendInt(objKey, int64(key.Num), 10)
			arrayLen++
		}
		var val string
		switch value.Type {
		case gjson.JSON:
			var nestedTruncated bool
			nestedTruncated, iterationError = readItems(value, objKey, maxRecursion-1, argumentLimit, byteBudget, usedBytes, argCount, lenCount, add)
			iterationTruncated = iterationTruncated || nestedTruncated
			if iterationError != nil {
				return false
			}
			objKey = objKey[:prevParentLength]
			return true
		case gjson.String:
			val = value.Str
		case gjson.Null:
			val = ""
		default:
			val = value.Raw
		}
		if byteBudget > 0 && *usedBytes+len(objKey)+len(val) > byteBudget {
			iterationError = errFlattenBudget
			return false
		}
		add(string(objKey), val)
		*usedBytes += len(objKey) + len(val)
		*argCount++
		objKey = objKey[:prevParentLength]
		return true
	})
	if arrayLen > 0 && !iterationTruncated && iterationError == nil {
		if argumentLimit > 0 && *lenCount >= argumentLimit {
			iterationTruncated = true
		} else {
			lenStr := strconv.Itoa(arrayLen)
			if byteBudget > 0 && *usedBytes+len(objKey)+len(lenStr) > byteBudget {
				iterationError = errFlattenBudget
			} else {
				add(string(objKey), lenStr)
				*usedBytes += len(objKey) + len(lenStr)
				*lenCount++
			}
		}
	}
	return iterationTruncated, iterationError
}
