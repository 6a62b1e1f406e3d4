package ensemble

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/dmitryikh/leaves"

	"synthos.dev/synthos/shared/errs"
)

// ParseLightGBM parses a LightGBM text model (model.save_model("x.txt"))
// with leaves, which reads every tree fully; feature names and kinds come
// from the header, which leaves does not expose.
func ParseLightGBM(data []byte) (m *Model, err error) {
	defer func() {
		// leaves indexes slices from the file's numbers; a malformed file
		// must be a rejection, never a crash.
		if r := recover(); r != nil {
			m, err = nil, errs.Errorf(errs.InvalidArgument, "lightgbm: malformed model: %v", r)
		}
	}()
	header := data
	if i := bytes.Index(data, []byte("\nTree=")); i >= 0 {
		header = data[:i]
	}
	kv := map[string]string{}
	for _, line := range strings.Split(string(header), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			kv[k] = v
		}
	}
	ens, err := leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(data)), true)
	if err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "lightgbm: %v", err)
	}
	names := strings.Fields(kv["feature_names"])
	infos := strings.Fields(kv["feature_infos"])
	nf := ens.NFeatures()
	if len(names) != 0 && len(names) != nf {
		return nil, errs.Errorf(errs.InvalidArgument, "lightgbm: %d feature names for %d features", len(names), nf)
	}
	feats := make([]Feature, nf)
	for i := range feats {
		feats[i].Name = fmt.Sprintf("Column_%d", i)
		if i < len(names) {
			feats[i].Name = names[i]
		}
		// Numeric features are described as [min:max], categorical ones
		// by the list of their categories "0:1:5".
		if i < len(infos) && infos[i] != "none" && !strings.HasPrefix(infos[i], "[") {
			feats[i].Kind = Categorical
		}
	}
	obj := kv["objective"]
	if strings.HasPrefix(obj, "multiclass") || strings.HasPrefix(obj, "multiclassova") {
		obj = strings.Fields(obj)[0]
	}
	return &Model{
		Framework: LightGBM, Objective: obj, Features: feats,
		Outputs: ens.NOutputGroups(), Trees: ens.NEstimators() * max(ens.NRawOutputGroups(), 1),
		impl: lgEval{ens},
	}, nil
}

type lgEval struct{ e *leaves.Ensemble }

func (l lgEval) predict(row, out []float64) {
	// Errors from leaves are about argument sizes, which Model checks.
	_ = l.e.Predict(row, 0, out)
}
