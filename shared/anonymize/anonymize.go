// Package anonymize de-identifies real rows, keeping them real: a streaming
// transform that applies an operator per column (drop, redact, mask, keyed
// pseudonyms, reversible tokens, surrogates, date shifting, generalisation,
// top/bottom coding, free-text scanning) and, on chosen quasi-identifiers,
// k-anonymity with l-diversity by Mondrian partitioning.
//
// Columns without a rule get one from their profile: names become
// surrogates, emails and addresses surrogates, phones, cards and IBANs are
// masked to their last four characters, national ids, IPs and URLs are
// redacted, keys become pseudonyms and free text is scanned for entities.
// Keys come from a Keyring read from the secrets adapter; the result names
// the key version used.
//
// The operator-only path streams: one row in, one row out, memory flat.
// k-anonymity needs every row's quasi-identifiers (Mondrian partitions the
// whole table), so it reads the input twice: once to partition, once to
// write.
//
// Surrogates use gofakeit directly (a small function per kind, ops.go);
// the free-text checksums duplicate shared/profile's unexported ones. Both
// are to move to the shared/pii package being written.
package anonymize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// ErrInput means the policy or the input is unusable.
var ErrInput = errs.New(errs.InvalidArgument, "anonymize: invalid input")

// DefaultMaxSuppress is the largest share of rows k-anonymity may suppress.
const DefaultMaxSuppress = 0.05

// Policy says how a table is de-identified.
type Policy struct {
	// Columns are the rules by column name; columns without one get the
	// default of their profiled kind unless NoDefaults.
	Columns    map[string]Rule `json:"columns,omitempty"`
	NoDefaults bool            `json:"no_defaults,omitempty"`
	// Quasi are the quasi-identifiers generalised by Mondrian to make every
	// class K rows or more with L or more distinct values of each
	// Sensitive column. K ≤ 1 and L ≤ 1 skip it.
	Quasi     []string `json:"quasi,omitempty"`
	Sensitive []string `json:"sensitive,omitempty"`
	K         int      `json:"k,omitempty"`
	L         int      `json:"l,omitempty"`
	// MaxSuppress is the largest share of rows that may be suppressed
	// (default DefaultMaxSuppress); beyond it Run fails.
	MaxSuppress float64 `json:"max_suppress,omitempty"`
	// Entity is the column whose value keys date shifting (every date of
	// one person moves by the same number of days); empty: each cell's own
	// value.
	Entity string `json:"entity,omitempty"`
	// Domain is the associated data of reversible tokens (default
	// "synthos"): tokens join across tables of one domain.
	Domain string `json:"domain,omitempty"`
}

// Check validates what of the policy can be judged without the data: k
// and l, the suppression limit, the quasi-identifiers and sensitive columns
// k-anonymity needs, and every rule's operator. Run checks it again with the
// input's columns; the API checks it when a job is created, so a bad policy
// is refused before anything is reserved. Errors wrap ErrInput.
func (pol Policy) Check() error {
	switch {
	case pol.K < 0:
		return fmt.Errorf("k must be 0 (off) or more, not %d: %w", pol.K, ErrInput)
	case pol.L < 0:
		return fmt.Errorf("l must be 0 (off) or more, not %d: %w", pol.L, ErrInput)
	case !(pol.MaxSuppress >= 0 && pol.MaxSuppress < 1):
		return fmt.Errorf("max_suppress must be a share from 0 to below 1, not %v: %w", pol.MaxSuppress, ErrInput)
	}
	for _, name := range slices.Sorted(maps.Keys(pol.Columns)) {
		if !slices.Contains(Ops, pol.Columns[name].Op) {
			return fmt.Errorf("column %q: unknown operator %q (want one of %s): %w", name, pol.Columns[name].Op, strings.Join(Ops, ", "), ErrInput)
		}
	}
	if pol.K <= 1 && pol.L <= 1 {
		return nil
	}
	if len(pol.Quasi) == 0 {
		return fmt.Errorf("k-anonymity needs quasi-identifier columns (--quasi): %w", ErrInput)
	}
	for _, q := range pol.Quasi {
		if r, ok := pol.Columns[q]; ok && r.Op != OpKeep {
			return fmt.Errorf("quasi-identifier %q has operator %s: Mondrian generalises quasi-identifiers itself: %w", q, r.Op, ErrInput)
		}
		if slices.Contains(pol.Sensitive, q) {
			return fmt.Errorf("column %q is both quasi-identifier and sensitive: %w", q, ErrInput)
		}
	}
	if pol.L > 1 && len(pol.Sensitive) == 0 {
		return fmt.Errorf("l-diversity needs sensitive columns (--sensitive): %w", ErrInput)
	}
	return nil
}

// Referenced lists every column the policy names (rules, quasi-identifiers,
// sensitive columns, the entity), sorted, for checks against a table's
// header.
func (pol Policy) Referenced() []string {
	names := slices.Collect(maps.Keys(pol.Columns))
	names = append(names, pol.Quasi...)
	names = append(names, pol.Sensitive...)
	if pol.Entity != "" {
		names = append(names, pol.Entity)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Kept lists the columns of cols the output keeps (all but those the
// policy drops), in order: the output header Run writes.
func (pol Policy) Kept(cols []string) []string {
	var out []string
	for _, c := range cols {
		if r, ok := pol.Columns[c]; !ok || r.Op != OpDrop {
			out = append(out, c)
		}
	}
	return out
}

// Action is what was done to one column.
type Action struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Reason string `json:"reason"`
}

// Result describes a run.
type Result struct {
	Rows       int         `json:"rows"`
	Actions    []Action    `json:"actions"`
	KeyVersion string      `json:"key_version,omitempty"`
	KAnonymity *KAnonymity `json:"k_anonymity,omitempty"`
	// Columns is the output header (dropped columns are gone).
	Columns []string `json:"columns"`
}

// Opener opens the input; Run calls it once, or twice with k-anonymity.
type Opener func() (table.Reader, io.Closer, error)

// defaultRule is the rule of a column without one.
func defaultRule(c *profile.Column) (Rule, string) {
	switch c.Kind {
	case profile.PII:
		switch c.PII {
		case profile.PersonName, profile.Email, profile.Address:
			return Rule{Op: OpSurrogate}, "PII (" + string(c.PII) + "): a consistent fake value"
		case profile.Phone, profile.Card, profile.IBAN:
			return Rule{Op: OpMask, KeepLast: 4}, "PII (" + string(c.PII) + "): masked but the last 4"
		default:
			return Rule{Op: OpRedact}, "PII (" + string(c.PII) + "): redacted"
		}
	case profile.ID:
		return Rule{Op: OpPseudonym}, "key: keyed pseudonym, joins survive"
	case profile.Text:
		return Rule{Op: OpScan}, "free text: entities replaced by their kind"
	}
	return Rule{Op: OpKeep}, "not an identifier"
}

// Run de-identifies the table open returns, writing to w, which it closes
// on success and aborts on failure. p profiles the input (nil: no defaults
// and no profiled date layouts); k may be nil when no operator needs a key.
func Run(ctx context.Context, open Opener, w table.Writer, p *profile.Profile, pol Policy, k *Keyring) (res *Result, err error) {
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("anonymize.Run: %w", err), w.Abort())
		}
	}()
	r, closer, err := open()
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	cols := r.Columns()
	res = &Result{}
	if k != nil {
		res.KeyVersion = k.KeyVersion()
	}
	domain := pol.Domain
	if domain == "" {
		domain = "synthos"
	}
	col := func(name string) int { return slices.Index(cols, name) }
	for name := range pol.Columns {
		if col(name) < 0 {
			return nil, fmt.Errorf("policy names column %q, which the input lacks: %w", name, ErrInput)
		}
	}
	if err := pol.Check(); err != nil {
		return nil, err
	}
	kanon := pol.K > 1 || pol.L > 1
	quasi := map[int]bool{}
	if kanon {
		for _, q := range append(slices.Clone(pol.Quasi), pol.Sensitive...) {
			if col(q) < 0 {
				return nil, fmt.Errorf("column %q is not in the input: %w", q, ErrInput)
			}
		}
		for _, q := range pol.Quasi {
			quasi[col(q)] = true
		}
	}
	entity := -1
	if pol.Entity != "" {
		if entity = col(pol.Entity); entity < 0 {
			return nil, fmt.Errorf("entity column %q is not in the input: %w", pol.Entity, ErrInput)
		}
	}
	ops := make([]cellOp, len(cols))
	keep := make([]bool, len(cols))
	for i, name := range cols {
		var pc *profile.Column
		if p != nil {
			pc = p.Col(name)
		}
		rule, ok := pol.Columns[name]
		reason := "policy"
		if !ok {
			rule, reason = Rule{Op: OpKeep}, "not an identifier"
			if pc != nil && !pol.NoDefaults {
				rule, reason = defaultRule(pc)
			}
		}
		if quasi[i] {
			rule, reason = Rule{Op: OpKeep}, fmt.Sprintf("quasi-identifier: generalised by Mondrian (k=%d, l=%d)", pol.K, pol.L)
			res.Actions = append(res.Actions, Action{Column: name, Op: OpGeneralize, Reason: reason})
		} else {
			res.Actions = append(res.Actions, Action{Column: name, Op: rule.Op, Reason: reason})
		}
		if rule.Op == OpDrop {
			continue
		}
		keep[i] = true
		res.Columns = append(res.Columns, name)
		if ops[i], err = compile(rule, pc, k, domain); err != nil {
			return nil, fmt.Errorf("column %q: %w: %w", name, err, ErrInput)
		}
	}

	var rowLabels [][]string // per class, the generalised quasi-identifiers
	var rowClass []int32     // per row, its class, -1 when suppressed
	if kanon {
		if rowLabels, rowClass, res.KAnonymity, err = partition(ctx, r, cols, pol); err != nil {
			return nil, err
		}
		if s := res.KAnonymity.SuppressedRows; len(rowClass) > 0 {
			max := pol.MaxSuppress
			if max == 0 {
				max = DefaultMaxSuppress
			}
			if float64(s) > max*float64(len(rowClass)) {
				return nil, fmt.Errorf("k=%d, l=%d would suppress %d of %d rows, more than %.0f%%: %w", pol.K, pol.L, s, len(rowClass), 100*max, ErrInput)
			}
		}
		closer.Close()
		if r, closer, err = open(); err != nil {
			return nil, err
		}
	}
	qpos := make([]int, 0, len(pol.Quasi)) // input index of each quasi-identifier, in policy order
	for _, q := range pol.Quasi {
		qpos = append(qpos, col(q))
	}
	out := make([]string, 0, len(res.Columns))
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read row %d: %w", n+1, err)
		}
		ent := ""
		if entity >= 0 {
			ent = row[entity]
		}
		out = out[:0]
		for i, cell := range row {
			if !keep[i] {
				continue
			}
			switch {
			case quasi[i]:
				if n >= len(rowClass) {
					return nil, fmt.Errorf("the input changed between the two reads (row %d): %w", n+1, ErrInput)
				}
				if c := rowClass[n]; c < 0 {
					cell = Suppressed
				} else {
					cell = rowLabels[c][slices.Index(qpos, i)]
				}
			case cell == "":
			default:
				if ent == "" {
					ent = cell
				}
				cell = ops[i](cell, ent)
				if entity < 0 {
					ent = ""
				}
			}
			out = append(out, cell)
		}
		if err := w.Write(out); err != nil {
			return nil, fmt.Errorf("write row %d: %w", n+1, err)
		}
		res.Rows++
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close output: %w", err)
	}
	return res, nil
}

// partition reads the quasi-identifier and sensitive columns of every row
// and runs Mondrian: per class the generalised values, per row its class.
func partition(ctx context.Context, r table.Reader, cols []string, pol Policy) ([][]string, []int32, *KAnonymity, error) {
	qcells := make([][]string, len(pol.Quasi))
	scells := make([][]string, len(pol.Sensitive))
	qi := make([]int, len(pol.Quasi))
	si := make([]int, len(pol.Sensitive))
	for j, q := range pol.Quasi {
		qi[j] = slices.Index(cols, q)
	}
	for j, s := range pol.Sensitive {
		si[j] = slices.Index(cols, s)
	}
	n := 0
	for ; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, nil, err
			}
		}
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read row %d: %w", n+1, err)
		}
		for j, c := range qi {
			qcells[j] = append(qcells[j], strings.Clone(row[c]))
		}
		for j, c := range si {
			scells[j] = append(scells[j], strings.Clone(row[c]))
		}
	}
	qis := make([]*qiCol, len(qi))
	for j := range qi {
		qis[j] = newQICol(pol.Quasi[j], qcells[j])
	}
	sens := make([][]int32, len(si))
	for j := range si {
		codes := map[string]int32{}
		sens[j] = make([]int32, n)
		for i, v := range scells[j] {
			c, ok := codes[v]
			if !ok {
				c = int32(len(codes))
				codes[v] = c
			}
			sens[j][i] = c
		}
	}
	k, l := max(pol.K, 1), max(pol.L, 1)
	classes := mondrian(qis, sens, n, k, l)
	rep := &KAnonymity{K: k, L: l, Quasi: pol.Quasi, Sensitive: pol.Sensitive}
	rowClass := make([]int32, n)
	for i := range rowClass {
		rowClass[i] = -1
	}
	labels := make([][]string, len(classes))
	for ci, cl := range classes {
		labels[ci] = make([]string, len(qis))
		for j, c := range qis {
			labels[ci][j] = c.label(cl)
		}
		for _, i := range cl {
			rowClass[i] = int32(ci)
		}
	}
	for _, c := range rowClass {
		if c < 0 {
			rep.SuppressedRows++
		}
	}
	measure(rep, qis, sens, classes, n)
	return labels, rowClass, rep, nil
}
