package gate_test

import (
	"fmt"
	"strings"

	"synthos.dev/synthos/shared/gate"
)

// A job tightens one threshold and accepts a missing holdout; every other
// threshold keeps its default.
func ExampleDecode() {
	th, err := gate.Decode(strings.NewReader(`{"max_dcr_share": 0.55, "allow_missing": ["dcr_share"]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(th.MaxDCRShare, th.MinColumnShapes, th.AllowMissing)

	_, err = gate.Decode(strings.NewReader(`{"max_dcr_shar": 0.55}`))
	fmt.Println(err)
	// Output:
	// 0.55 0.85 [dcr_share]
	// gate.Decode: max_dcr_shar is not a threshold; did you mean "max_dcr_share"?
}
