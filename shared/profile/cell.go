package profile

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultMissing lists the spellings of a missing value that Infer recognises
// when Options.MissingTokens is nil. Cells are trimmed of surrounding
// whitespace before they are compared, and the comparison is exact: "None"
// (Python's spelling) is missing, but "none", a real category in many tables,
// is not.
var DefaultMissing = []string{"", "?", "NA", "N/A", "n/a", "null", "NULL", "None", "NaN", "nan", "-"}

// IsMissing reports whether cell means "no value" in column c: it is empty or
// blank, or, once trimmed, one of the spellings of missing that Infer found in
// the column (c.MissingTokens). With a nil c it uses DefaultMissing. It does
// not allocate.
func IsMissing(cell string, c *Column) bool {
	s := strings.TrimSpace(cell)
	if s == "" {
		return true
	}
	tokens := DefaultMissing
	if c != nil {
		tokens = c.MissingTokens
	}
	for _, m := range tokens {
		if s == m {
			return true
		}
	}
	return false
}

// ParseNumber parses a decimal number such as "42", "-3.5", "+1e-3" or
// " 27.9" (surrounding whitespace is ignored). It rejects what strconv would
// accept but a table should not hold as a number: NaN, infinities, hex,
// underscores, and integers with leading zeros such as "007", which are codes
// (zip codes, account numbers) rather than quantities. It does not allocate.
func ParseNumber(cell string) (float64, bool) {
	s := strings.TrimSpace(cell)
	if !isDecimal(s) {
		return 0, false
	}
	if v, ok := parseSmallInt(s); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false // out of range
	}
	return v, true
}

// parseSmallInt parses a plain run of at most 15 digits with an optional sign
// exactly and faster than strconv.ParseFloat. s is already known decimal.
func parseSmallInt(s string) (float64, bool) {
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return float64(n), true
}

// isDecimal reports whether s is [+-]digits[.digits][(e|E)[+-]digits] with at
// least one digit in the mantissa and no leading zero on a multi-digit
// integer part.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := i - start
	if intDigits > 1 && s[start] == '0' {
		return false
	}
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracDigits = i - f
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}

// decimals returns the number of digits after the decimal point of a cell
// that isDecimal accepted, and whether it has a point or an exponent (and so
// is written as a non-integer).
func decimals(s string) (n int, fractional bool) {
	dot := strings.IndexByte(s, '.')
	exp := strings.IndexAny(s, "eE")
	if dot < 0 {
		return 0, exp >= 0
	}
	end := len(s)
	if exp > dot {
		end = exp
	}
	return end - dot - 1, true
}

// ParseTime parses a trimmed cell with a Go time layout such as Column.Format.
// Layouts without a zone yield UTC times.
func ParseTime(cell, layout string) (time.Time, bool) {
	t, err := time.Parse(layout, strings.TrimSpace(cell))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// ParseBool reads a cell of a boolean column: it matches the trimmed cell to
// c.TrueToken or c.FalseToken, ignoring case. ok is false for any other cell.
func ParseBool(cell string, c *Column) (value, ok bool) {
	s := strings.TrimSpace(cell)
	switch {
	case c.TrueToken != "" && strings.EqualFold(s, c.TrueToken):
		return true, true
	case c.FalseToken != "" && strings.EqualFold(s, c.FalseToken):
		return false, true
	}
	return false, false
}

// AppendNumber writes v as a numeric column of the source writes its
// numbers (see Column.Integer, Decimals and Trim): whole numbers for an
// integer-valued column (with Decimals zeros after the point if the source
// writes them), else rounded to Decimals places, with trailing zeros when
// the source keeps them. Every model formats numbers through it.
func AppendNumber(buf []byte, v float64, integer bool, decimals int, trim bool) []byte {
	decimals = min(max(decimals, 0), 15)
	if integer {
		v = math.Round(v)
		if decimals == 0 || trim {
			return strconv.AppendInt(buf, int64(v), 10)
		}
		return strconv.AppendFloat(buf, v, 'f', decimals, 64)
	}
	if trim {
		p := math.Pow10(decimals)
		return strconv.AppendFloat(buf, math.Round(v*p)/p, 'f', -1, 64)
	}
	return strconv.AppendFloat(buf, v, 'f', decimals, 64)
}
