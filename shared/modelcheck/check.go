// Package modelcheck validates uploaded models before they are accepted:
// it sniffs the format, enforces size limits, parses tree ensembles fully
// (shared/ensemble), scans every pickle with an opcode scanner that never
// unpickles (pickle.go), checks the structure of PyTorch, TorchScript and
// TensorFlow SavedModel archives, reads ONNX graphs and opsets from their
// protobuf, and matches the model's inputs against a dataset profile.
package modelcheck

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"path"
	"strings"

	"synthos.dev/synthos/shared/ensemble"
)

// Formats and frameworks a Report names.
const (
	FormatPickle      = "pickle"
	FormatJoblib      = "joblib"
	FormatPyTorch     = "pytorch-zip"
	FormatTorchScript = "torchscript"
	FormatSavedModel  = "tf-savedmodel"
	FormatONNX        = "onnx"

	FrameworkSklearn    = "sklearn"
	FrameworkPyTorch    = "pytorch"
	FrameworkTensorFlow = "tensorflow"
	FrameworkONNX       = "onnx"
)

// Limits bound what Check reads.
type Limits struct {
	MaxBytes    int64 // the upload itself
	MaxUnpacked int64 // all members of an archive, and a decompressed pickle
	MaxEntries  int   // members of an archive
	MaxNested   int   // depth of archives inside archives
}

// DefaultLimits suit models served from a Cloud Function's memory.
var DefaultLimits = Limits{MaxBytes: 512 << 20, MaxUnpacked: 2 << 30, MaxEntries: 10000, MaxNested: 2}

// Input is one model input as the model declares it.
type Input struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"` // numeric | categorical, or the framework's type ("float32")
}

// Report is the outcome of a check. The model is acceptable when Findings
// is empty.
type Report struct {
	Format    string `json:"format"`
	Framework string `json:"framework"`
	Size      int64  `json:"size"`
	// Servable: Synthos predicts with it in process (tree ensembles).
	Servable bool    `json:"servable"`
	Inputs   []Input `json:"inputs,omitempty"`
	Outputs  int     `json:"outputs,omitempty"`
	Task     string  `json:"task,omitempty"`
	// Details says what was read: trees, opset, tags, signatures, members.
	Details  map[string]any `json:"details,omitempty"`
	Globals  []string       `json:"globals,omitempty"` // every import of every pickle
	Findings []Finding      `json:"findings,omitempty"`
}

// OK reports whether the model passed.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Reason is the rejection reason in one line, "" for an accepted model.
func (r *Report) Reason() string {
	if r.OK() {
		return ""
	}
	s := r.Findings[0].String()
	if n := len(r.Findings) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more)", n)
	}
	return s
}

func (r *Report) reject(file, reason string) {
	r.Findings = append(r.Findings, Finding{File: file, Reason: reason})
}

func (r *Report) detail(k string, v any) {
	if r.Details == nil {
		r.Details = map[string]any{}
	}
	r.Details[k] = v
}

// Check validates a model file. name is the uploaded file name (its
// extension helps tell a pickle from a joblib file).
func Check(data []byte, name string, lim Limits) *Report {
	r := &Report{Size: int64(len(data))}
	if int64(len(data)) > lim.MaxBytes {
		r.Format = "unknown"
		r.reject("", fmt.Sprintf("model is %d bytes, over the limit of %d", len(data), lim.MaxBytes))
		return r
	}
	ext := strings.ToLower(path.Ext(name))
	switch {
	case len(data) == 0:
		r.Format = "unknown"
		r.reject("", "empty file")
	case ensemble.Sniff(data) != "":
		checkEnsemble(r, data)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		checkZip(r, data, lim)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && (ext == ".gz" || ext == ".tgz" || isTar(gunzipHead(data))):
		checkTar(r, data, lim)
	case isTar(data):
		checkTar(r, data, lim)
	case ext == ".onnx" || looksONNX(data):
		checkONNX(r, data)
	case isPickle(data, ext), isCompressed(data):
		checkPickleFile(r, data, name, lim)
	default:
		r.Format = "unknown"
		r.reject("", "not a model format Synthos accepts (XGBoost JSON/UBJSON, LightGBM text, scikit-learn pickle/joblib, PyTorch, TorchScript, TensorFlow SavedModel, ONNX)")
	}
	return r
}

func checkEnsemble(r *Report, data []byte) {
	r.Format = ensemble.Sniff(data)
	m, err := ensemble.Parse(bytes.NewReader(data), r.Format)
	if err != nil {
		r.Framework = strings.SplitN(r.Format, "-", 2)[0]
		r.reject("", err.Error())
		return
	}
	r.Framework, r.Servable, r.Outputs, r.Task = m.Framework, true, m.Outputs, string(m.Task())
	for _, f := range m.Features {
		r.Inputs = append(r.Inputs, Input{Name: f.Name, Kind: f.Kind.String()})
	}
	r.detail("trees", m.Trees)
	r.detail("objective", m.Objective)
}

func isPickle(data []byte, ext string) bool {
	switch ext {
	case ".pkl", ".pickle", ".joblib", ".sav", ".p":
		return true
	}
	return len(data) > 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5
}

func isCompressed(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || bytes.HasPrefix(data, []byte("BZh")) ||
		len(data) > 2 && data[0] == 0x78 && (data[1] == 0x01 || data[1] == 0x5e || data[1] == 0x9c || data[1] == 0xda)
}

// checkPickleFile scans a scikit-learn / XGBoost-sklearn pickle or a joblib
// file (joblib's zlib, gzip and bz2 compression are undone first, within
// the unpacked-size limit; lzma is not read).
func checkPickleFile(r *Report, data []byte, name string, lim Limits) {
	r.Format, r.Framework = FormatPickle, FrameworkSklearn
	if strings.EqualFold(path.Ext(name), ".joblib") {
		r.Format = FormatJoblib
	}
	if isCompressed(data) {
		var zr io.Reader
		var err error
		switch {
		case data[0] == 0x1f:
			zr, err = gzip.NewReader(bytes.NewReader(data))
		case data[0] == 'B':
			zr = bzip2.NewReader(bytes.NewReader(data))
		default:
			zr, err = zlib.NewReader(bytes.NewReader(data))
		}
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(zr, lim.MaxUnpacked+1))
		}
		if err != nil {
			r.reject("", "cannot decompress: "+err.Error())
			return
		}
		if int64(len(data)) > lim.MaxUnpacked {
			r.reject("", fmt.Sprintf("decompresses to more than %d bytes", lim.MaxUnpacked))
			return
		}
		r.Format = FormatJoblib
	}
	globals, findings := ScanPickle(data, "", AllowSklearn)
	r.Globals, r.Findings = globals, append(r.Findings, findings...)
	for _, g := range globals {
		if strings.HasPrefix(g, "xgboost.") {
			r.detail("estimator_framework", "xgboost")
		}
	}
}

// checkZip tells PyTorch, TorchScript and SavedModel archives apart by their
// members and checks each.
func checkZip(r *Report, data []byte, lim Limits) {
	r.Format = "zip"
	files, err := unzip(data, lim, 0, "")
	if err != nil {
		r.reject("", err.Error())
		return
	}
	checkTree(r, files, lim)
}

func checkTar(r *Report, data []byte, lim Limits) {
	r.Format = "tar"
	files, err := untar(data, lim)
	if err != nil {
		r.reject("", err.Error())
		return
	}
	checkTree(r, files, lim)
}

// member is one file of an unpacked archive.
type member struct {
	name string
	data []byte
}

func checkTree(r *Report, files []member, lim Limits) {
	has := func(suffix string) bool {
		for _, f := range files {
			if strings.HasSuffix("/"+f.name, "/"+suffix) {
				return true
			}
		}
		return false
	}
	hasDir := func(dir string) bool {
		for _, f := range files {
			if strings.Contains("/"+f.name, "/"+dir+"/") {
				return true
			}
		}
		return false
	}
	r.detail("members", len(files))
	switch {
	case has("saved_model.pb") || has("saved_model.pbtxt"):
		checkSavedModel(r, files)
	case hasDir("code") && has("constants.pkl") && has("data.pkl"):
		r.Format, r.Framework = FormatTorchScript, FrameworkPyTorch
		if !has("version") {
			r.reject("", "TorchScript archive without a version record")
		}
		scanTorchPickles(r, files)
	case has("data.pkl"):
		r.Format, r.Framework = FormatPyTorch, FrameworkPyTorch
		if !has("version") {
			r.reject("", "PyTorch archive without a version record")
		}
		scanTorchPickles(r, files)
	default:
		r.reject("", "archive is not a PyTorch, TorchScript or TensorFlow SavedModel model (no data.pkl, code/ or saved_model.pb)")
	}
}

// scanTorchPickles scans every pickle in a PyTorch archive: data.pkl, and
// any other .pkl member, including those inside nested archives (a second
// pickle beside data.pkl is how payloads hide from loaders that only look
// at the first).
func scanTorchPickles(r *Report, files []member) {
	seen := map[string]bool{}
	for _, f := range files {
		base := path.Base(f.name)
		if strings.Contains(f.name, "/data/") && !strings.HasSuffix(base, ".pkl") {
			continue // raw tensor storage
		}
		if !strings.HasSuffix(base, ".pkl") && !(len(f.data) > 1 && f.data[0] == 0x80 && f.data[1] >= 2 && f.data[1] <= 5) {
			continue
		}
		globals, findings := ScanPickle(f.data, f.name, AllowTorch)
		for _, g := range globals {
			seen[g] = true
		}
		r.Findings = append(r.Findings, findings...)
	}
	for g := range seen {
		r.Globals = append(r.Globals, g)
	}
	sortStrings(r.Globals)
}

// unzip reads every member of a zip within the limits; members that are
// archives themselves are unpacked too (their names prefixed by the outer
// member's), up to MaxNested levels.
func unzip(data []byte, lim Limits, depth int, prefix string) ([]member, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%sbad zip archive: %v", prefix, err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%sarchive has %d members, over the limit of %d", prefix, len(zr.File), lim.MaxEntries)
	}
	var out []member
	var total int64
	for _, f := range zr.File {
		if err := safeName(f.Name); err != nil {
			return nil, fmt.Errorf("%s%v", prefix, err)
		}
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s%s: %v", prefix, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, lim.MaxUnpacked-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s%s: %v", prefix, f.Name, err)
		}
		total += int64(len(b))
		if total > lim.MaxUnpacked {
			return nil, fmt.Errorf("%sarchive unpacks to more than %d bytes", prefix, lim.MaxUnpacked)
		}
		name := prefix + f.Name
		if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			if depth >= lim.MaxNested {
				return nil, fmt.Errorf("%s: archives nested deeper than %d", name, lim.MaxNested)
			}
			inner, err := unzip(b, lim, depth+1, name+"!/")
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		out = append(out, member{name, b})
	}
	return out, nil
}

func safeName(n string) error {
	clean := path.Clean("/" + n)
	if strings.HasPrefix(n, "/") || strings.Contains(n, `\`) || strings.Contains(n, "..") && clean != "/"+n {
		return fmt.Errorf("member %q escapes the archive", n)
	}
	return nil
}

func gunzipHead(data []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(zr, 512))
	return b
}

func isTar(b []byte) bool { return len(b) >= 262 && string(b[257:262]) == "ustar" }

func untar(data []byte, lim Limits) ([]member, error) {
	var rd io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("bad gzip: %v", err)
		}
		rd = zr
	}
	tr := tar.NewReader(rd)
	var out []member
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bad tar archive: %v", err)
		}
		if err := safeName(h.Name); err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("member %q is a link or device, not a file", h.Name)
		}
		if len(out) >= lim.MaxEntries {
			return nil, fmt.Errorf("archive has over %d members", lim.MaxEntries)
		}
		b, err := io.ReadAll(io.LimitReader(tr, lim.MaxUnpacked-total+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", h.Name, err)
		}
		total += int64(len(b))
		if total > lim.MaxUnpacked {
			return nil, fmt.Errorf("archive unpacks to more than %d bytes", lim.MaxUnpacked)
		}
		out = append(out, member{strings.TrimPrefix(h.Name, "./"), b})
	}
}

// Files returns a validated model's files as a deployment stages them: a
// single-file model as itself, a SavedModel archive as the members under
// the directory holding saved_model.pb (paths relative to it).
func Files(data []byte, name string, lim Limits) (map[string][]byte, error) {
	var members []member
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		members, err = unzip(data, lim, 0, "")
	case isTar(data) || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && isTar(gunzipHead(data)):
		members, err = untar(data, lim)
	default:
		return map[string][]byte{path.Base(name): data}, nil
	}
	if err != nil {
		return nil, err
	}
	root := ""
	for _, m := range members {
		if p := "/" + m.name; strings.HasSuffix(p, "/saved_model.pb") {
			root = strings.TrimSuffix(m.name, "saved_model.pb")
		}
	}
	out := map[string][]byte{}
	for _, m := range members {
		if strings.HasPrefix(m.name, root) {
			out[strings.TrimPrefix(m.name, root)] = m.data
		}
	}
	return out, nil
}
