package errs

import "strconv"

// Size spells a byte count for a user-facing message the way limits are
// documented: "1 MiB", "64 MiB", "5 GiB", "1.5 KiB", "17 bytes". Whole
// multiples print without decimals; others with at most one.
func Size(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	if n < 1024 && n > -1024 {
		if n == 1 {
			return "1 byte"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	}
	x, u := float64(n), ""
	for _, unit := range units {
		if x < 1024 && x > -1024 {
			break
		}
		x, u = x/1024, unit
	}
	if x == float64(int64(x)) {
		return strconv.FormatInt(int64(x), 10) + " " + u
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + " " + u
}
