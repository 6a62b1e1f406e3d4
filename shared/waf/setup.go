package waf

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// The setup SecAction (10010, initDefaults) sets some fifty TX variables
// to constants on every request. Coraza runs each setvar by expanding its
// key and value macros, lower-casing the key and looking the variable up
// before it sets it: 7% of a GET's inspection. The same rule id runs
// instead an operator that sets the variables, as computed once at load,
// directly (Map.Set of the lower-case key and the value, what setvar ends
// with for a value that is neither empty nor arithmetic).
//
// Folded at load, in order: a setvar "tx.name=value" whose value is
// literal, or names only TX variables set earlier in the same action
// (%{tx.other}, read as the earlier setvar left it). Anything else (a
// value starting with + or - or empty, another macro, a removal with "!",
// a collection other than TX) leaves the SecAction as it is.
// TestInitDefaultsKeepTX compares TX after phase 1 with CRS's own rules;
// TestSetupFoldKeepsTX with the SecAction.

const setupOperator = "synthosSetTX"

// setups are the folded setups of the WAFs built in this process, by key
// (the operator is created while the rules parse).
var (
	setups   sync.Map // string -> []setupVar
	setupSeq atomic.Uint64
)

func init() {
	plugins.RegisterOperator(setupOperator, newSetupOp)
}

// setupVar is one folded setvar: the lower-case key and the value.
type setupVar struct {
	key   string
	value []string
}

type setupOp struct{ vars []setupVar }

func newSetupOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	vs, ok := setups.Load(strings.TrimSpace(o.Arguments))
	if !ok {
		return nil, fmt.Errorf("waf: setup operator %q: unknown key", o.Arguments)
	}
	return setupOp{vars: vs.([]setupVar)}, nil
}

// Evaluate sets the variables and never matches (the rule records no
// match, as the SecAction's would have, which verdicts leave out).
func (o setupOp) Evaluate(tx plugintypes.TransactionState, _ string) bool {
	col := tx.Variables().TX()
	for _, v := range o.vars {
		// Set copies the value into its own slice.
		col.Set(v.key, v.value)
	}
	return false
}

var (
	setvarLiteral = regexp.MustCompile(`(?i)^setvar:'?tx\.([A-Za-z0-9_]+)=([^'%]*(?:%\{tx\.[A-Za-z0-9_]+\}[^'%]*)*)'?$`)
	txMacro       = regexp.MustCompile(`(?i)%\{tx\.([A-Za-z0-9_]+)\}`)
)

// foldSetup turns the setvars of a SecAction into the variables they
// leave, in order; ok is false when one is not a constant setvar.
func foldSetup(setvars []string) (vars []setupVar, ok bool) {
	known := map[string]string{}
	index := map[string]int{}
	for _, sv := range setvars {
		m := setvarLiteral.FindStringSubmatch(sv)
		if m == nil {
			return nil, false
		}
		key, value := strings.ToLower(m[1]), m[2]
		undefined := false
		value = txMacro.ReplaceAllStringFunc(value, func(mac string) string {
			v, found := known[strings.ToLower(txMacro.FindStringSubmatch(mac)[1])]
			undefined = undefined || !found
			return v
		})
		if undefined || value == "" || value[0] == '+' || value[0] == '-' {
			return nil, false
		}
		known[key] = value
		if i, seen := index[key]; seen {
			vars[i].value = []string{value}
			continue
		}
		index[key] = len(vars)
		vars = append(vars, setupVar{key: key, value: []string{value}})
	}
	return vars, true
}

// setupRule is the rule that sets the folded variables, with id and phase
// 1, or "" when the setvars do not fold. The key stays registered while
// the process lives (a few kilobytes per WAF built).
func setupRule(id int, setvars []string) (string, []setupVar) {
	vars, ok := foldSetup(setvars)
	if !ok {
		return "", nil
	}
	key := "s" + strconv.FormatUint(setupSeq.Add(1), 10)
	setups.Store(key, vars)
	return fmt.Sprintf(`SecRule REQUEST_METHOD "@%s %s" "id:%d,phase:1,pass,nolog,t:none"`, setupOperator, key, id), vars
}
