package modelcheck

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// The pickle scanner reads a pickle stream opcode by opcode over a symbolic
// stack (the approach of fickling; picklescan lists globals the same way)
// and never unpickles. A pickle can only call what it imports: GLOBAL,
// STACK_GLOBAL and INST import "module.name", REDUCE, NEWOBJ, NEWOBJ_EX, OBJ
// and INST call it. The scanner rejects
//   - an import outside the allow-list (os.system, subprocess.Popen,
//     builtins.eval, builtins.getattr...);
//   - a call of anything that is not an allowed import (the result of
//     another call, e.g. getattr(obj, "system")(...));
//   - a STACK_GLOBAL whose operands are not plain strings, and the copyreg
//     extension registry (EXT1/2/4), which names callables by number;
//   - a stream it cannot parse to the end.
//
// joblib files interleave raw array bytes with the pickle (after the BUILD
// of each joblib NumpyArrayWrapper); the scanner computes their length from
// the wrapper's shape and dtype and skips them, and scans object arrays,
// which joblib writes as a nested pickle, as pickles.

// Finding is one reason to reject a model.
type Finding struct {
	File   string `json:"file,omitempty"`   // member of an archive, "" for the upload itself
	Offset int64  `json:"offset"`           // byte offset of the opcode
	Op     string `json:"op,omitempty"`     // opcode name
	Global string `json:"global,omitempty"` // module.name imported or called
	Reason string `json:"reason"`
}

func (f Finding) String() string {
	var b strings.Builder
	if f.File != "" {
		b.WriteString(f.File + ": ")
	}
	fmt.Fprintf(&b, "%s at byte %d", f.Reason, f.Offset)
	if f.Global != "" {
		b.WriteString(" (" + f.Global + ")")
	}
	return b.String()
}

// Allow decides whether a pickle may import module.name.
type Allow func(module, name string) bool

// pv is a symbolic pickle value: only what the checks need is kept.
type pv struct {
	kind   pvKind
	s      string // str, bytes (for short ones), global "module.name"
	i      int64
	items  []pv // tuple, list, dict (key, value, key, value...)
	callee string
}

type pvKind uint8

const (
	pvOther pvKind = iota
	pvMark
	pvStr
	pvInt
	pvNone
	pvSeq  // tuple, list, set
	pvDict // items as key/value pairs
	pvGlobal
	pvCall // the result of calling callee
)

type pickleScanner struct {
	data     []byte
	p        int
	file     string
	allow    Allow
	stack    []pv
	memo     map[int64]pv
	findings []Finding
	globals  map[string]bool
	depth    int // nested pickle depth (joblib object arrays)
}

// maxFindings caps the findings of one stream: the first ones say enough.
const maxFindings = 20

// ScanPickle scans a pickle stream (or joblib file) and returns the
// globals it imports and the reasons to reject it (none for a safe one).
func ScanPickle(data []byte, file string, allow Allow) (globals []string, findings []Finding) {
	s := &pickleScanner{data: data, file: file, allow: allow, memo: map[int64]pv{}, globals: map[string]bool{}}
	s.run()
	for g := range s.globals {
		globals = append(globals, g)
	}
	sortStrings(globals)
	return globals, s.findings
}

func (s *pickleScanner) flag(off int, op, global, reason string) {
	if len(s.findings) < maxFindings {
		s.findings = append(s.findings, Finding{File: s.file, Offset: int64(off), Op: op, Global: global, Reason: reason})
	}
}

func (s *pickleScanner) run() {
	if len(s.data) == 0 {
		s.flag(0, "", "", "empty pickle")
		return
	}
	for s.p < len(s.data) {
		stop, err := s.stream()
		if err != nil {
			s.flag(s.p, "", "", "unparseable pickle: "+err.Error())
			return
		}
		if !stop {
			return
		}
		// Some files hold several pickles back to back (torch's legacy
		// format); anything after the last STOP must be another pickle.
		for s.p < len(s.data) && s.data[s.p] == 0 {
			s.p++
		}
		if s.p < len(s.data) && s.data[s.p] != 0x80 {
			s.flag(s.p, "", "", "data after the end of the pickle")
			return
		}
	}
}

func (s *pickleScanner) need(n int) ([]byte, error) {
	if n < 0 || n > len(s.data)-s.p {
		return nil, fmt.Errorf("argument of %d bytes runs past the end", n)
	}
	b := s.data[s.p : s.p+n]
	s.p += n
	return b, nil
}

func (s *pickleScanner) line() (string, error) {
	i := bytes.IndexByte(s.data[s.p:], '\n')
	if i < 0 {
		return "", fmt.Errorf("unterminated line argument")
	}
	l := string(s.data[s.p : s.p+i])
	s.p += i + 1
	return l, nil
}

func (s *pickleScanner) uint(n int) (int64, error) {
	b, err := s.need(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return int64(b[0]), nil
	case 2:
		return int64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return int64(binary.LittleEndian.Uint32(b)), nil
	}
	v := binary.LittleEndian.Uint64(b)
	if v > 1<<40 {
		return 0, fmt.Errorf("length %d is too large", v)
	}
	return int64(v), nil
}

func (s *pickleScanner) push(v pv) { s.stack = append(s.stack, v) }

func (s *pickleScanner) pop() pv {
	if len(s.stack) == 0 {
		return pv{}
	}
	v := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	return v
}

func (s *pickleScanner) top() *pv {
	if len(s.stack) == 0 {
		return nil
	}
	return &s.stack[len(s.stack)-1]
}

// popMark pops the items above the topmost MARK, and the mark.
func (s *pickleScanner) popMark() []pv {
	for i := len(s.stack) - 1; i >= 0; i-- {
		if s.stack[i].kind == pvMark {
			items := append([]pv(nil), s.stack[i+1:]...)
			s.stack = s.stack[:i]
			return items
		}
	}
	items := s.stack
	s.stack = nil
	return items
}

func (s *pickleScanner) importGlobal(off int, op, module, name string) pv {
	g := module + "." + name
	s.globals[g] = true
	if !s.allow(module, name) {
		s.flag(off, op, g, "imports a callable outside the allow-list")
	}
	return pv{kind: pvGlobal, s: g}
}

// call records a call of callee; anything but an imported global is a
// computed callable and rejected.
func (s *pickleScanner) call(off int, op string, callee pv, args pv) pv {
	if callee.kind != pvGlobal {
		s.flag(off, op, "", "calls a computed callable (not a plain import)")
		return pv{kind: pvCall}
	}
	return pv{kind: pvCall, callee: callee.s, items: []pv{args}}
}

// stream scans one pickle up to its STOP; stop reports whether STOP was
// reached (false after a finding that ends the scan).
func (s *pickleScanner) stream() (stop bool, err error) {
	s.stack = s.stack[:0]
	for s.p < len(s.data) {
		off := s.p
		op := s.data[s.p]
		s.p++
		switch op {
		case '.': // STOP
			return true, nil
		case 0x80: // PROTO
			if _, err := s.need(1); err != nil {
				return false, err
			}
		case 0x95: // FRAME
			if _, err := s.uint(8); err != nil {
				return false, err
			}
		case '(': // MARK
			s.push(pv{kind: pvMark})
		case '0': // POP
			s.pop()
		case '1': // POP_MARK
			s.popMark()
		case '2': // DUP
			if t := s.top(); t != nil {
				s.push(*t)
			}
		case 'F', 'L': // FLOAT, LONG (text)
			if _, err := s.line(); err != nil {
				return false, err
			}
			s.push(pv{})
		case 'I': // INT (text; "01"/"00" are True/False)
			l, err := s.line()
			if err != nil {
				return false, err
			}
			v, _ := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
			s.push(pv{kind: pvInt, i: v})
		case 'J', 'K', 'M': // BININT, BININT1, BININT2
			n := map[byte]int{'J': 4, 'K': 1, 'M': 2}[op]
			v, err := s.uint(n)
			if err != nil {
				return false, err
			}
			if op == 'J' {
				v = int64(int32(uint32(v)))
			}
			s.push(pv{kind: pvInt, i: v})
		case 0x8a, 0x8b: // LONG1, LONG4
			n, err := s.uint(map[byte]int{0x8a: 1, 0x8b: 4}[op])
			if err != nil {
				return false, err
			}
			b, err := s.need(int(n))
			if err != nil {
				return false, err
			}
			v := pv{}
			if n <= 7 { // small ints matter (shapes): decode little-endian two's complement
				var x int64
				for i := len(b) - 1; i >= 0; i-- {
					x = x<<8 | int64(b[i])
				}
				if n > 0 && b[n-1]&0x80 != 0 {
					x -= 1 << (8 * n)
				}
				v = pv{kind: pvInt, i: x}
			}
			s.push(v)
		case 'G': // BINFLOAT
			if _, err := s.need(8); err != nil {
				return false, err
			}
			s.push(pv{})
		case 'N':
			s.push(pv{kind: pvNone})
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			s.push(pv{})
		case 'S', 'V': // STRING, UNICODE (text)
			l, err := s.line()
			if err != nil {
				return false, err
			}
			if op == 'S' {
				l = strings.Trim(l, `'"`)
			}
			s.push(pv{kind: pvStr, s: l})
		case 'T', 'X', 'U', 0x8c, 0x8d, 'B', 'C', 0x8e, 0x96:
			// BINSTRING, BINUNICODE, SHORT_BINSTRING, SHORT_BINUNICODE,
			// BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
			w := map[byte]int{'T': 4, 'X': 4, 'U': 1, 0x8c: 1, 0x8d: 8, 'B': 4, 'C': 1, 0x8e: 8, 0x96: 8}[op]
			n, err := s.uint(w)
			if err != nil {
				return false, err
			}
			b, err := s.need(int(n))
			if err != nil {
				return false, err
			}
			switch op {
			case 'B', 'C', 0x8e, 0x96:
				s.push(pv{}) // bytes: contents do not matter
			default:
				s.push(pv{kind: pvStr, s: string(b)})
			}
		case 'P': // PERSID
			if _, err := s.line(); err != nil {
				return false, err
			}
			s.push(pv{})
		case 'Q': // BINPERSID: torch's storages; the id's globals were checked when pushed
			s.pop()
			s.push(pv{})
		case 0x97, 0x98: // NEXT_BUFFER, READONLY_BUFFER (out-of-band buffers)
			if op == 0x97 {
				s.push(pv{})
			}
		case ')':
			s.push(pv{kind: pvSeq})
		case ']', 0x8f: // EMPTY_LIST, EMPTY_SET
			s.push(pv{kind: pvSeq})
		case '}':
			s.push(pv{kind: pvDict})
		case 't', 'l', 0x91: // TUPLE, LIST, FROZENSET
			s.push(pv{kind: pvSeq, items: s.popMark()})
		case 'd': // DICT
			s.push(pv{kind: pvDict, items: s.popMark()})
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			items := make([]pv, n)
			for i := n - 1; i >= 0; i-- {
				items[i] = s.pop()
			}
			s.push(pv{kind: pvSeq, items: items})
		case 'a': // APPEND
			v := s.pop()
			if t := s.top(); t != nil {
				t.items = append(t.items, v)
			}
		case 'e', 0x90: // APPENDS, ADDITEMS
			items := s.popMark()
			if t := s.top(); t != nil {
				t.items = append(t.items, items...)
			}
		case 's': // SETITEM
			v, k := s.pop(), s.pop()
			if t := s.top(); t != nil {
				t.items = append(t.items, k, v)
			}
		case 'u': // SETITEMS
			items := s.popMark()
			if t := s.top(); t != nil {
				t.items = append(t.items, items...)
			}
		case 'g', 'h', 'j': // GET, BINGET, LONG_BINGET
			var k int64
			if op == 'g' {
				l, err := s.line()
				if err != nil {
					return false, err
				}
				k, _ = strconv.ParseInt(l, 10, 64)
			} else if k, err = s.uint(map[byte]int{'h': 1, 'j': 4}[op]); err != nil {
				return false, err
			}
			s.push(s.memo[k])
		case 'p', 'q', 'r': // PUT, BINPUT, LONG_BINPUT
			var k int64
			if op == 'p' {
				l, err := s.line()
				if err != nil {
					return false, err
				}
				k, _ = strconv.ParseInt(l, 10, 64)
			} else if k, err = s.uint(map[byte]int{'q': 1, 'r': 4}[op]); err != nil {
				return false, err
			}
			if t := s.top(); t != nil {
				s.memo[k] = *t
			}
		case 0x94: // MEMOIZE
			if t := s.top(); t != nil {
				s.memo[int64(len(s.memo))] = *t
			}
		case 'c', 'i': // GLOBAL, INST: "module\nname\n"
			mod, err := s.line()
			if err != nil {
				return false, err
			}
			name, err := s.line()
			if err != nil {
				return false, err
			}
			g := s.importGlobal(off, opName(op), mod, name)
			if op == 'i' {
				s.push(s.call(off, "INST", g, pv{kind: pvSeq, items: s.popMark()}))
			} else {
				s.push(g)
			}
		case 0x93: // STACK_GLOBAL
			name, mod := s.pop(), s.pop()
			if mod.kind != pvStr || name.kind != pvStr {
				s.flag(off, "STACK_GLOBAL", "", "imports a name that is not a plain string")
				s.push(pv{})
				continue
			}
			s.push(s.importGlobal(off, "STACK_GLOBAL", mod.s, name.s))
		case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4
			if _, err := s.uint(map[byte]int{0x82: 1, 0x83: 2, 0x84: 4}[op]); err != nil {
				return false, err
			}
			s.flag(off, "EXT", "", "uses the copyreg extension registry (a callable named by number)")
			s.push(pv{})
		case 'R': // REDUCE: callable, args
			args, fn := s.pop(), s.pop()
			s.push(s.call(off, "REDUCE", fn, args))
		case 0x81: // NEWOBJ: cls, args
			args, cls := s.pop(), s.pop()
			s.push(s.call(off, "NEWOBJ", cls, args))
		case 0x92: // NEWOBJ_EX: cls, args, kwargs
			_, args, cls := s.pop(), s.pop(), s.pop()
			s.push(s.call(off, "NEWOBJ_EX", cls, args))
		case 'o': // OBJ: mark, cls, args...
			items := s.popMark()
			if len(items) == 0 {
				return false, fmt.Errorf("OBJ without a class")
			}
			s.push(s.call(off, "OBJ", items[0], pv{kind: pvSeq, items: items[1:]}))
		case 'b': // BUILD: obj, state
			state := s.pop()
			obj := s.top()
			if obj != nil && obj.kind == pvCall && obj.callee == "joblib.numpy_pickle.NumpyArrayWrapper" {
				if err := s.skipJoblibArray(off, state); err != nil {
					return false, err
				}
			}
		default:
			return false, fmt.Errorf("unknown opcode 0x%02x at byte %d", op, off)
		}
		if len(s.stack) > 1<<20 {
			return false, fmt.Errorf("stack deeper than %d", 1<<20)
		}
	}
	return false, fmt.Errorf("no STOP opcode")
}

// skipJoblibArray steps over the array joblib wrote after a
// NumpyArrayWrapper: [padding length byte, padding] when
// numpy_array_alignment_bytes is set, then shape×itemsize raw bytes, or a
// nested pickle for object arrays.
func (s *pickleScanner) skipJoblibArray(off int, state pv) error {
	get := func(key string) (pv, bool) {
		for i := 0; i+1 < len(state.items); i += 2 {
			if state.items[i].kind == pvStr && state.items[i].s == key {
				return state.items[i+1], true
			}
		}
		return pv{}, false
	}
	dtype, ok := get("dtype")
	shape, ok2 := get("shape")
	if !ok || !ok2 || dtype.kind != pvCall || dtype.callee != "numpy.dtype" || len(dtype.items) == 0 ||
		len(dtype.items[0].items) == 0 || dtype.items[0].items[0].kind != pvStr {
		return fmt.Errorf("joblib array wrapper without a readable dtype and shape")
	}
	code := dtype.items[0].items[0].s
	if strings.HasPrefix(strings.TrimLeft(code, "<>=|"), "O") {
		if s.depth > 4 {
			return fmt.Errorf("joblib object arrays nested too deep")
		}
		// The object array is a pickle of its own, inside this one.
		saved, savedMemo := s.stack, s.memo
		s.stack, s.memo = nil, map[int64]pv{}
		s.depth++
		stop, err := s.stream()
		s.depth--
		s.stack, s.memo = saved, savedMemo
		if err != nil || !stop {
			return fmt.Errorf("joblib object array: %v", err)
		}
		return nil
	}
	size, err := dtypeSize(code)
	if err != nil {
		return err
	}
	n := size
	for _, d := range shape.items {
		if d.kind != pvInt || d.i < 0 || (d.i > 0 && n > (1<<40)/d.i) {
			return fmt.Errorf("joblib array shape is not a list of sizes")
		}
		n *= d.i
	}
	if a, ok := get("numpy_array_alignment_bytes"); ok && a.kind == pvInt && a.i > 0 {
		pad, err := s.uint(1)
		if err != nil {
			return err
		}
		if _, err := s.need(int(pad)); err != nil {
			return err
		}
	}
	if _, err := s.need(int(n)); err != nil {
		return fmt.Errorf("joblib array data: %w", err)
	}
	return nil
}

// dtypeSize is the item size of a numpy dtype code ("f8", "<i4", "b1",
// "U5", "c16"...).
func dtypeSize(code string) (int64, error) {
	c := strings.TrimLeft(code, "<>=|")
	if len(c) < 2 {
		switch c {
		case "?", "b", "B":
			return 1, nil
		}
		return 0, fmt.Errorf("numpy dtype %q has no size", code)
	}
	n, err := strconv.ParseInt(c[1:], 10, 64)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, fmt.Errorf("numpy dtype %q has no size", code)
	}
	if c[0] == 'U' {
		n *= 4
	}
	return n, nil
}

func opName(op byte) string {
	switch op {
	case 'c':
		return "GLOBAL"
	case 'i':
		return "INST"
	}
	return fmt.Sprintf("0x%02x", op)
}
