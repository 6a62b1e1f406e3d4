package errs

import "testing"

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 bytes", 1: "1 byte", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB",
		1 << 20: "1 MiB", 64 << 20: "64 MiB", 6356992: "6.1 MiB", 5 << 30: "5 GiB", 3 << 40: "3 TiB",
		5<<30 + 1: "5.0 GiB",
	} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
