package state

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxNameLen is Firestore's limit on collection and document ids, in bytes.
const maxNameLen = 1500

// checkName reports whether s is a valid collection name or document id on every driver.
func checkName(kind, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrInvalid, kind)
	case len(s) > maxNameLen:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, kind, maxNameLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalid, kind, s)
	case strings.Contains(s, "/"):
		return fmt.Errorf("%w: %s %q contains '/'", ErrInvalid, kind, s)
	case s == "." || s == "..":
		return fmt.Errorf("%w: %s %q is reserved", ErrInvalid, kind, s)
	case len(s) >= 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__"):
		return fmt.Errorf("%w: %s %q is reserved", ErrInvalid, kind, s)
	}
	return nil
}

// checkRef validates a collection and a document id.
func checkRef(coll, id string) error {
	if err := checkName("collection", coll); err != nil {
		return err
	}
	return checkName("document id", id)
}

// encode turns v into the map both drivers store: JSON objects become map[string]any, arrays []any,
// integers int64 and other numbers float64. It rejects what Firestore cannot store: a value that is not
// an object, integers beyond int64 and arrays directly inside arrays.
func encode(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode value: %w", ErrInvalid, err)
	}
	x, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: value must encode to a JSON object, not %.40s", ErrInvalid, b)
	}
	return m, nil
}

// decodeJSON decodes one JSON value with typed numbers (see encode).
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: decode value: %w", ErrInvalid, err)
	}
	return typed(x, false)
}

// typed replaces json.Number with int64 or float64 throughout x.
func typed(x any, inArray bool) (any, error) {
	switch x := x.(type) {
	case json.Number:
		return number(x)
	case map[string]any:
		for k, v := range x {
			t, err := typed(v, false)
			if err != nil {
				return nil, err
			}
			x[k] = t
		}
		return x, nil
	case []any:
		if inArray {
			return nil, fmt.Errorf("%w: arrays directly inside arrays cannot be stored", ErrInvalid)
		}
		for i, v := range x {
			t, err := typed(v, true)
			if err != nil {
				return nil, err
			}
			x[i] = t
		}
		return x, nil
	}
	return x, nil
}

// number converts a JSON number: integers to int64, everything else to float64.
func number(n json.Number) (any, error) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: integer %s does not fit in int64", ErrInvalid, s)
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: number %s: %w", ErrInvalid, s, err)
	}
	return f, nil
}

// eqValue converts an Eq value to string, bool or int64, the types equality filters support.
func eqValue(v any) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil equality value", ErrInvalid)
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String:
		return r.String(), nil
	case reflect.Bool:
		return r.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := r.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%w: equality value %d does not fit in int64", ErrInvalid, u)
		}
		return int64(u), nil
	}
	return nil, fmt.Errorf("%w: equality on %T; use a string, bool or integer", ErrInvalid, v)
}

// checkQuery validates q and returns its equality values converted by eqValue.
func checkQuery(coll string, q Query) ([]any, error) {
	if err := checkName("collection", coll); err != nil {
		return nil, err
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("%w: negative limit %d", ErrInvalid, q.Limit)
	}
	switch {
	case q.OrderBy != "":
		if err := checkPath(q.OrderBy); err != nil {
			return nil, err
		}
	case q.Desc:
		// Firestore (at least its emulator) cannot scan document ids backwards.
		return nil, fmt.Errorf("%w: Desc needs OrderBy", ErrInvalid)
	}
	vals := make([]any, len(q.Where))
	for i, w := range q.Where {
		if err := checkPath(w.Field); err != nil {
			return nil, err
		}
		v, err := eqValue(w.Value)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", w.Field, err)
		}
		vals[i] = v
	}
	return vals, nil
}

// checkPath accepts dotted field paths whose segments Firestore takes without quoting.
func checkPath(p string) error {
	for seg := range strings.SplitSeq(p, ".") {
		if seg == "" || strings.ContainsAny(seg, "~*/[]`") {
			return fmt.Errorf("%w: field path %q", ErrInvalid, p)
		}
	}
	return nil
}

// lookup returns the value at dotted path p in m, and whether it exists.
func lookup(m map[string]any, p string) (any, bool) {
	var cur any = m
	for seg := range strings.SplitSeq(p, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// rank orders value types as Firestore does.
func rank(x any) int {
	switch x.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, float64:
		return 2
	case string:
		return 3
	case []any:
		return 4
	default:
		return 5
	}
}

// compare orders two typed values as Firestore does: by type rank, then within the type. Integers and
// floats compare numerically, strings by their UTF-8 bytes, arrays and maps element by element (maps in
// key order, key before value).
func compare(a, b any) int {
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	switch a := a.(type) {
	case bool:
		b := b.(bool)
		switch {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	case int64:
		if b, ok := b.(int64); ok {
			return cmp.Compare(a, b)
		}
		return cmp.Compare(float64(a), b.(float64))
	case float64:
		if b, ok := b.(int64); ok {
			return cmp.Compare(a, float64(b))
		}
		return cmp.Compare(a, b.(float64))
	case string:
		return strings.Compare(a, b.(string))
	case []any:
		b := b.([]any)
		for i := range min(len(a), len(b)) {
			if c := compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(a), len(b))
	case map[string]any:
		b := b.(map[string]any)
		ak, bk := sortedKeys(a), sortedKeys(b)
		for i := range min(len(ak), len(bk)) {
			if c := strings.Compare(ak[i], bk[i]); c != 0 {
				return c
			}
			if c := compare(a[ak[i]], b[bk[i]]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(ak), len(bk))
	}
	return 0
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
