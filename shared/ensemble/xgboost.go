package ensemble

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"synthos.dev/synthos/shared/errs"
)

// xgbFile is the part of XGBoost's JSON model schema (doc/model.schema in
// the XGBoost repository) that prediction needs.
type xgbFile struct {
	Learner *struct {
		FeatureNames    []string        `json:"feature_names"`
		FeatureTypes    []string        `json:"feature_types"`
		GradientBooster json.RawMessage `json:"gradient_booster"`
		Param           struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
			NumTarget  string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
	Version []int `json:"version"`
}

type xgbBooster struct {
	Name       string          `json:"name"`
	Model      *xgbGBTree      `json:"model"`
	GBTree     *xgbBooster     `json:"gbtree"`
	WeightDrop []f32           `json:"weight_drop"`
	Weights    json.RawMessage `json:"weights"`
}

type xgbGBTree struct {
	TreeInfo []int     `json:"tree_info"`
	Trees    []xgbTree `json:"trees"`
}

type xgbTree struct {
	Left       []int32 `json:"left_children"`
	Right      []int32 `json:"right_children"`
	SplitIndex []int64 `json:"split_indices"`
	SplitCond  []f32   `json:"split_conditions"`
	DefaultL   []flag  `json:"default_left"`
	SplitType  []int   `json:"split_type"`
	CatNodes   []int64 `json:"categories_nodes"`
	CatSegs    []int64 `json:"categories_segments"`
	CatSizes   []int64 `json:"categories_sizes"`
	Cats       []int64 `json:"categories"`
	Param      struct {
		NumNodes string `json:"num_nodes"`
	} `json:"tree_param"`
}

// f32 is a float32 parsed from its decimal text directly (parsing to
// float64 first could round twice); "NaN", "Inf" and "-Inf" arrive quoted
// after sanitizeJSON.
type f32 float32

func (f *f32) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		*f = f32(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return fmt.Errorf("number %q: %w", s, err)
	}
	*f = f32(v)
	return nil
}

// flag is a boolean XGBoost writes as 0/1 (JSON) or true/false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "1", "true":
		*f = true
	case "0", "false":
		*f = false
	default:
		return fmt.Errorf("flag %q is not 0 or 1", b)
	}
	return nil
}

// sanitizeJSON quotes the NaN and Infinity tokens XGBoost writes (split
// conditions of categorical nodes are NaN), which encoding/json rejects.
func sanitizeJSON(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	out := make([]byte, 0, len(data)+len(data)/64)
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(data) {
				i++
				out = append(out, data[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case bytes.HasPrefix(data[i:], []byte("NaN")):
			out = append(out, `"NaN"`...)
			i += 2
		case bytes.HasPrefix(data[i:], []byte("-Infinity")):
			out = append(out, `"-Inf"`...)
			i += 8
		case bytes.HasPrefix(data[i:], []byte("Infinity")):
			out = append(out, `"Inf"`...)
			i += 7
		default:
			out = append(out, c)
		}
	}
	return out
}

// ParseXGBoostJSON parses a model saved by XGBoost's save_model("x.json").
func ParseXGBoostJSON(data []byte) (*Model, error) {
	var f xgbFile
	dec := json.NewDecoder(bytes.NewReader(sanitizeJSON(data)))
	if err := dec.Decode(&f); err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "xgboost json: %v", err)
	}
	return buildXGBoost(&f)
}

// ParseXGBoostUBJSON parses a model saved by XGBoost's save_model("x.ubj").
// The UBJSON document is decoded to the same tree as the JSON one and read
// by the same code.
func ParseXGBoostUBJSON(data []byte) (*Model, error) {
	v, err := decodeUBJSON(data)
	if err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "xgboost ubjson: %v", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "xgboost ubjson: %v", err)
	}
	var f xgbFile
	if err := json.Unmarshal(js, &f); err != nil {
		return nil, errs.Errorf(errs.InvalidArgument, "xgboost ubjson: %v", err)
	}
	return buildXGBoost(&f)
}

// xgbNode is one node laid out for prediction. Leaves have left < 0 and
// their value in cond.
type xgbNode struct {
	left, right int32
	def         int32 // child taken when the feature is missing
	feat        int32
	cond        float32
	cat         int32 // index into xgbEval.cats of the node's category set, -1 for numeric splits
}

type xgbEval struct {
	trees [][]xgbNode // as checked; the reference the flat layout is tested against
	flat  flatForest
	dense *denseForest // nil when a tree is deeper than denseMaxDepth
	// Block cell buffers of the dense batch kernel for models too wide
	// for its stack buffer (*[]dcell of 2*nf*kernelRows cells).
	cellPool sync.Pool
	group    []int32
	weight   []float32 // per tree (DART), nil for gbtree
	cats     [][]uint64
	base     float32 // base margin
	outputs  int
	groups   int // margins per row: classes for multiclass, else 1
	obj      string
	nf       int
}

func badModel(format string, args ...any) error {
	return errs.Errorf(errs.InvalidArgument, "xgboost: "+format, args...)
}

func buildXGBoost(f *xgbFile) (*Model, error) {
	l := f.Learner
	if l == nil {
		return nil, badModel("no learner object")
	}
	var b xgbBooster
	if err := json.Unmarshal(l.GradientBooster, &b); err != nil {
		return nil, badModel("gradient_booster: %v", err)
	}
	var weights []f32
	switch b.Name {
	case "gbtree":
	case "dart":
		if b.GBTree == nil {
			return nil, badModel("dart booster without its gbtree")
		}
		weights = b.WeightDrop
		b = *b.GBTree
	case "gblinear":
		return nil, errs.Errorf(errs.Unimplemented, "xgboost: gblinear boosters are not served in process (tree boosters only)")
	default:
		return nil, badModel("unknown booster %q", b.Name)
	}
	if b.Model == nil {
		return nil, badModel("booster has no model")
	}
	nf, err := strconv.Atoi(orDefault(l.Param.NumFeature, "0"))
	if err != nil || nf <= 0 || nf > 1<<20 {
		return nil, badModel("num_feature %q is not a positive count", l.Param.NumFeature)
	}
	nclass, err := strconv.Atoi(orDefault(l.Param.NumClass, "0"))
	if err != nil || nclass < 0 || nclass > 1<<16 {
		return nil, badModel("num_class %q is not a count", l.Param.NumClass)
	}
	if nt := orDefault(l.Param.NumTarget, "1"); nt != "1" {
		return nil, errs.Errorf(errs.Unimplemented, "xgboost: multi-target models (num_target %s) are not served in process", nt)
	}
	groups := max(nclass, 1)
	base, err := strconv.ParseFloat(strings.Trim(orDefault(l.Param.BaseScore, "0.5"), "[]"), 32)
	if err != nil {
		return nil, badModel("base_score %q: %v", l.Param.BaseScore, err)
	}
	obj := l.Objective.Name
	margin, err := probToMargin(obj, float32(base))
	if err != nil {
		return nil, err
	}
	e := &xgbEval{base: margin, obj: obj, outputs: groups, groups: groups, nf: nf}
	if obj == "multi:softmax" {
		e.outputs = 1
	}
	m := b.Model
	if len(m.TreeInfo) != len(m.Trees) {
		return nil, badModel("tree_info has %d entries for %d trees", len(m.TreeInfo), len(m.Trees))
	}
	if weights != nil && len(weights) != len(m.Trees) {
		return nil, badModel("weight_drop has %d entries for %d trees", len(weights), len(m.Trees))
	}
	for i := range m.Trees {
		g := m.TreeInfo[i]
		if g < 0 || g >= groups {
			return nil, badModel("tree %d is in group %d of %d", i, g, groups)
		}
		nodes, err := e.buildTree(&m.Trees[i], nf)
		if err != nil {
			return nil, badModel("tree %d: %v", i, err)
		}
		e.trees = append(e.trees, nodes)
		e.flat.add(nodes)
		e.group = append(e.group, int32(g))
		if weights != nil {
			e.weight = append(e.weight, float32(weights[i]))
		}
	}
	e.flat.cats = e.cats
	depths := make([]int32, len(e.flat.trees))
	for i, t := range e.flat.trees {
		depths[i] = t.depth
	}
	e.dense = newDense(e.trees, depths, e.cats)
	feats := make([]Feature, nf)
	for i := range feats {
		feats[i].Name = fmt.Sprintf("f%d", i)
		if i < len(l.FeatureNames) {
			feats[i].Name = l.FeatureNames[i]
		}
		if i < len(l.FeatureTypes) && l.FeatureTypes[i] == "c" {
			feats[i].Kind = Categorical
		}
	}
	if len(l.FeatureNames) != 0 && len(l.FeatureNames) != nf {
		return nil, badModel("%d feature names for %d features", len(l.FeatureNames), nf)
	}
	return &Model{Framework: XGBoost, Objective: obj, Features: feats, Outputs: e.outputs, Trees: len(e.trees), impl: e}, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// probToMargin turns base_score into the margin the trees add to, as
// XGBoost's objectives do (ProbToMargin).
func probToMargin(obj string, base float32) (float32, error) {
	switch obj {
	case "binary:logistic", "reg:logistic", "binary:logitraw":
		if base <= 0 || base >= 1 {
			return 0, badModel("base_score %v is not a probability", base)
		}
		return float32(-math.Log(1/float64(base) - 1)), nil
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox":
		if base <= 0 {
			return 0, badModel("base_score %v is not positive", base)
		}
		return float32(math.Log(float64(base))), nil
	case "reg:squarederror", "reg:linear", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
		"binary:hinge", "multi:softprob", "multi:softmax", "rank:pairwise", "rank:ndcg", "rank:map":
		return base, nil
	}
	return 0, errs.Errorf(errs.Unimplemented, "xgboost: objective %q is not served in process", obj)
}

// buildTree checks one tree and lays it out. Every node must be reached
// exactly once from the root, so the tree is finite and acyclic.
func (e *xgbEval) buildTree(t *xgbTree, nf int) ([]xgbNode, error) {
	n := len(t.Left)
	if n == 0 {
		return nil, fmt.Errorf("no nodes")
	}
	if nn := t.Param.NumNodes; nn != "" && nn != strconv.Itoa(n) {
		return nil, fmt.Errorf("num_nodes %s but %d nodes", nn, n)
	}
	if len(t.Right) != n || len(t.SplitIndex) != n || len(t.SplitCond) != n || len(t.DefaultL) != n {
		return nil, fmt.Errorf("node arrays differ in length")
	}
	if len(t.SplitType) != 0 && len(t.SplitType) != n {
		return nil, fmt.Errorf("split_type has %d entries for %d nodes", len(t.SplitType), n)
	}
	nodes := make([]xgbNode, n)
	for i := range nodes {
		l, r := t.Left[i], t.Right[i]
		nd := xgbNode{left: l, right: r, cond: float32(t.SplitCond[i]), cat: -1}
		if l == -1 {
			if r != -1 {
				return nil, fmt.Errorf("node %d has a right child but no left", i)
			}
			if math.IsNaN(float64(nd.cond)) {
				return nil, fmt.Errorf("leaf %d has no value", i)
			}
			nd.left = -1
			nodes[i] = nd
			continue
		}
		if l <= 0 || r <= 0 || int(l) >= n || int(r) >= n || l == r {
			return nil, fmt.Errorf("node %d has children %d and %d outside the tree", i, l, r)
		}
		if t.SplitIndex[i] < 0 || t.SplitIndex[i] >= int64(nf) {
			return nil, fmt.Errorf("node %d splits on feature %d of %d", i, t.SplitIndex[i], nf)
		}
		nd.feat = int32(t.SplitIndex[i])
		nd.def = r
		if t.DefaultL[i] {
			nd.def = l
		}
		nodes[i] = nd
	}
	seen := make([]bool, n)
	stack := []int32{0}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			return nil, fmt.Errorf("node %d is reached twice", id)
		}
		seen[id] = true
		if nodes[id].left >= 0 {
			stack = append(stack, nodes[id].left, nodes[id].right)
		}
	}
	for i, s := range seen {
		if !s && !(t.Left[i] == -1 && i > 0 && isDeleted(t, i)) {
			return nil, fmt.Errorf("node %d is not reachable from the root", i)
		}
	}
	// Categorical splits: the listed categories go right, every other
	// category (and an invalid one) goes left (XGBoost's common::Decision).
	if len(t.CatNodes) != len(t.CatSegs) || len(t.CatNodes) != len(t.CatSizes) {
		return nil, fmt.Errorf("category arrays differ in length")
	}
	catOf := map[int64]int{}
	for i, nid := range t.CatNodes {
		seg, size := t.CatSegs[i], t.CatSizes[i]
		if nid < 0 || nid >= int64(n) || seg < 0 || size < 0 || seg+size > int64(len(t.Cats)) {
			return nil, fmt.Errorf("category set %d is out of range", i)
		}
		catOf[nid] = i
	}
	for i := range nodes {
		if len(t.SplitType) == 0 || t.SplitType[i] == 0 || nodes[i].left < 0 {
			continue
		}
		if t.SplitType[i] != 1 {
			return nil, fmt.Errorf("node %d has split type %d", i, t.SplitType[i])
		}
		ci, ok := catOf[int64(i)]
		if !ok {
			return nil, fmt.Errorf("categorical node %d has no category set", i)
		}
		var bits []uint64
		for _, c := range t.Cats[t.CatSegs[ci] : t.CatSegs[ci]+t.CatSizes[ci]] {
			if c < 0 || c >= maxCategory {
				return nil, fmt.Errorf("node %d lists category %d", i, c)
			}
			for int(c/64) >= len(bits) {
				bits = append(bits, 0)
			}
			bits[c/64] |= 1 << (c % 64)
		}
		nodes[i].cat = int32(len(e.cats))
		e.cats = append(e.cats, bits)
	}
	return nodes, nil
}

// maxCategory bounds category codes (XGBoost's are float32-exact integers;
// 2^24 keeps one category set's bitmap at most 2 MB).
const maxCategory = 1 << 24

// isDeleted reports whether node i is a deleted slot (XGBoost keeps pruned
// nodes in the arrays, unreachable, as leaves).
func isDeleted(t *xgbTree, i int) bool { return t.Left[i] == -1 && t.Right[i] == -1 }

func hasCat(bits []uint64, c int64) bool {
	w := c / 64
	return c >= 0 && w < int64(len(bits)) && bits[w]&(1<<(c%64)) != 0
}

func (e *xgbEval) transform(sums []float32, out []float64) {
	switch e.obj {
	case "binary:logistic", "reg:logistic":
		out[0] = float64(sigmoid32(sums[0]))
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox":
		out[0] = float64(float32(math.Exp(float64(sums[0]))))
	case "binary:hinge":
		out[0] = 0
		if sums[0] > 0 {
			out[0] = 1
		}
	case "multi:softprob":
		softmax32(sums, out)
	case "multi:softmax":
		best := 0
		for i, v := range sums {
			if v > sums[best] {
				best = i
			}
		}
		out[0] = float64(best)
	default:
		for i, v := range sums {
			out[i] = float64(v)
		}
	}
}

func softmax32(z []float32, out []float64) {
	wmax := z[0]
	for _, v := range z[1:] {
		wmax = max(wmax, v)
	}
	var sum float32
	for i, v := range z {
		ev := float32(math.Exp(float64(v - wmax)))
		out[i] = float64(ev)
		sum += ev
	}
	for i := range z {
		out[i] = float64(float32(out[i]) / sum)
	}
}
