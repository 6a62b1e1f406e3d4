package pii

// The check-digit schemes PII values carry. Detection (IsCard, IsIBAN) and
// generation (Spec.Append) both use these, so each scheme has one home.

// luhnSum is the Luhn sum of the digits of s, skipping other bytes, with
// the last digit counted as position 1 (not doubled) when last is true and
// as position 2 (doubled: the check digit is still to be written) otherwise.
// It also returns how many digits it read.
func luhnSum(s []byte, last bool) (sum, n int) {
	double := !last
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
		n++
	}
	return sum, n
}

// LuhnValid reports whether the digits of s (other bytes ignored) pass the
// Luhn check; a single digit never does.
func LuhnValid(s string) bool {
	sum, n := luhnSum([]byte(s), true)
	return n > 1 && sum%10 == 0
}

// LuhnFix rewrites the last digit of b so that its digits pass the Luhn check.
func LuhnFix(b []byte) {
	last := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			last = i
			break
		}
	}
	if last < 0 {
		return
	}
	sum, _ := luhnSum(b[:last], false)
	b[last] = '0' + byte((10-sum%10)%10)
}

// ibanMod97 is the ISO 13616 remainder of an IBAN written in s with spaces
// ignored: the first four characters move to the end and letters count as
// 10..35 (either case). ok is false when s holds another byte or fewer than
// five characters.
func ibanMod97(s []byte) (rem int, ok bool) {
	add := func(c byte) bool {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		case c >= 'a' && c <= 'z':
			rem = (rem*100 + int(c-'a') + 10) % 97
		default:
			return false
		}
		return true
	}
	head := 0 // characters of the first four seen
	for _, c := range s {
		if c == ' ' {
			continue
		}
		if head < 4 {
			head++
			continue
		}
		if !add(c) {
			return 0, false
		}
	}
	if head < 4 {
		return 0, false
	}
	head = 0
	for _, c := range s {
		if c == ' ' {
			continue
		}
		if head == 4 {
			break
		}
		head++
		if !add(c) {
			return 0, false
		}
	}
	return rem, true
}

// IBANValid reports whether s (spaces allowed) passes the IBAN mod-97 check.
func IBANValid(s string) bool {
	r, ok := ibanMod97([]byte(s))
	return ok && r == 1
}

// IBANFix rewrites the two check digits (third and fourth characters,
// spaces skipped) of the IBAN in b so that it passes the mod-97 check.
func IBANFix(b []byte) {
	var at [4]int
	k := 0
	for i, c := range b {
		if c != ' ' && k < 4 {
			at[k] = i
			k++
		}
	}
	if k < 4 {
		return
	}
	b[at[2]], b[at[3]] = '0', '0'
	r, ok := ibanMod97(b)
	if !ok {
		return
	}
	check := 98 - r
	b[at[2]], b[at[3]] = '0'+byte(check/10), '0'+byte(check%10)
}
