package modelcheck

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScanPickle scans a real scikit-learn random forest joblib file.
func BenchmarkScanPickle(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "benign", "sk_gbm.joblib"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if r := Check(data, "m.joblib", DefaultLimits); !r.OK() {
			b.Fatal(r.Reason())
		}
	}
}
