package ensemble

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// decodeUBJSON decodes a Universal Binary JSON document (the format of
// XGBoost's .ubj models, draft 12 with optimized typed containers) into
// map[string]any / []any / float64 / int64 / string / bool / nil. Counts are
// checked against the bytes left so a hostile length cannot allocate more
// than the input could hold, and nesting is bounded.
func decodeUBJSON(data []byte) (any, error) {
	d := &ubDecoder{b: data}
	v, err := d.value(0)
	if err != nil {
		return nil, fmt.Errorf("at byte %d: %w", d.p, err)
	}
	return v, nil
}

type ubDecoder struct {
	b []byte
	p int
}

const ubMaxDepth = 64

func (d *ubDecoder) byte() (byte, error) {
	if d.p >= len(d.b) {
		return 0, fmt.Errorf("unexpected end")
	}
	c := d.b[d.p]
	d.p++
	return c, nil
}

func (d *ubDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.p {
		return nil, fmt.Errorf("length %d runs past the end", n)
	}
	s := d.b[d.p : d.p+n]
	d.p += n
	return s, nil
}

// size is the fixed width of a scalar type marker's payload.
func ubSize(t byte) int {
	switch t {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	case 'Z', 'T', 'F', 'N':
		return 0
	}
	return -1
}

func (d *ubDecoder) int() (int, error) {
	t, err := d.byte()
	if err != nil {
		return 0, err
	}
	v, err := d.typed(t, 0)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok || n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("bad length %v", v)
	}
	return int(n), nil
}

func (d *ubDecoder) value(depth int) (any, error) {
	t, err := d.byte()
	for err == nil && t == 'N' {
		t, err = d.byte()
	}
	if err != nil {
		return nil, err
	}
	return d.typed(t, depth)
}

func (d *ubDecoder) typed(t byte, depth int) (any, error) {
	if w := ubSize(t); w > 0 {
		b, err := d.take(w)
		if err != nil {
			return nil, err
		}
		switch t {
		case 'i':
			return int64(int8(b[0])), nil
		case 'U':
			return int64(b[0]), nil
		case 'C':
			return string(b), nil
		case 'I':
			return int64(int16(binary.BigEndian.Uint16(b))), nil
		case 'l':
			return int64(int32(binary.BigEndian.Uint32(b))), nil
		case 'L':
			return int64(binary.BigEndian.Uint64(b)), nil
		case 'd':
			return ubFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b)))), nil
		case 'D':
			return ubFloat(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
		}
	}
	switch t {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'S', 'H':
		n, err := d.int()
		if err != nil {
			return nil, err
		}
		b, err := d.take(n)
		if err != nil {
			return nil, err
		}
		if t == 'H' {
			f, err := strconv.ParseFloat(string(b), 64)
			if err != nil {
				return nil, err
			}
			return ubFloat(f), nil
		}
		return string(b), nil
	case '[', '{':
		if depth >= ubMaxDepth {
			return nil, fmt.Errorf("nested deeper than %d", ubMaxDepth)
		}
		return d.container(t == '{', depth+1)
	}
	return nil, fmt.Errorf("unknown type marker %q", t)
}

// ubFloat keeps non-finite numbers representable in JSON: XGBoost's NaN
// split conditions become the quoted "NaN" its JSON reader also accepts.
type ubFloat float64

func (f ubFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (d *ubDecoder) container(object bool, depth int) (any, error) {
	var elem byte // typed container's element type, 0 if untyped
	count := -1
	if d.p < len(d.b) && d.b[d.p] == '$' {
		d.p++
		t, err := d.byte()
		if err != nil {
			return nil, err
		}
		elem = t
	}
	if d.p < len(d.b) && d.b[d.p] == '#' {
		d.p++
		n, err := d.int()
		if err != nil {
			return nil, err
		}
		count = n
	} else if elem != 0 {
		return nil, fmt.Errorf("typed container without a count")
	}
	if count >= 0 {
		// Each element takes at least one byte unless its type has no payload.
		if w := ubSize(elem); elem == 0 || w > 0 {
			if min := count * max(w, 1); min > len(d.b)-d.p {
				return nil, fmt.Errorf("count %d runs past the end", count)
			}
		} else if count > 1<<20 {
			return nil, fmt.Errorf("count %d of empty values", count)
		}
	}
	next := func() (any, error) {
		if elem != 0 {
			return d.typed(elem, depth)
		}
		return d.value(depth)
	}
	end := byte(']')
	if object {
		end = '}'
	}
	atEnd := func() bool {
		if count >= 0 {
			return false
		}
		for d.p < len(d.b) && d.b[d.p] == 'N' {
			d.p++
		}
		if d.p < len(d.b) && d.b[d.p] == end {
			d.p++
			return true
		}
		return false
	}
	if !object {
		arr := make([]any, 0, max(count, 0))
		for i := 0; count < 0 || i < count; i++ {
			if atEnd() {
				return arr, nil
			}
			v, err := next()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	}
	obj := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if atEnd() {
			return obj, nil
		}
		n, err := d.int()
		if err != nil {
			return nil, err
		}
		k, err := d.take(n)
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		obj[string(k)] = v
	}
	return obj, nil
}
