package profile

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"synthos.dev/synthos/shared/relations"
)

// WriteText writes p as an aligned table for people, one line per column:
// name, kind (pii/KIND for personal data), confidence, missing share,
// distinct count, and a detail that depends on the kind (range, format,
// tokens, key pattern or most frequent value). It never prints values of PII
// or text columns.
func WriteText(w io.Writer, p *Profile) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "rows %d, columns %d", p.Rows, len(p.Columns))
	if p.Sampled > 0 {
		fmt.Fprintf(tw, ", kinds from %d sampled rows", p.Sampled)
	}
	fmt.Fprint(tw, "\n\nCOLUMN\tKIND\tCONF\tMISSING\tDISTINCT\tDETAIL\n")
	for i := range p.Columns {
		c := &p.Columns[i]
		kind := string(c.Kind)
		if c.Kind == PII {
			kind += "/" + string(c.PII)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n",
			clean(c.Name), kind, percent(c.Confidence), percent(c.MissingRate), c.Distinct, detail(c))
	}
	if len(p.Relations) > 0 {
		fmt.Fprint(tw, "\nRELATION\tSUPPORT\tCONF\tDETAIL\n")
		for _, r := range p.Relations {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", clean(r.String()), r.Support, percent(r.Confidence), relationDetail(p, r))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("profile.WriteText: %w", err)
	}
	return nil
}

// relationDetail describes an order's gap or a geodesic's ratio, or says
// a relation was declared.
func relationDetail(p *Profile, r relations.Relation) string {
	switch {
	case r.Declared:
		return "declared in the schema"
	case r.Ratio != nil:
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }
		return "ratio " + f(r.Ratio.Min) + " … " + f(r.Ratio.Max) + ", median " + f(r.Ratio.Median)
	case r.Gap == nil:
		return ""
	}
	f := func(x float64) string { return num(math.Round(x*1e6) / 1e6) } // no float noise from the subtraction
	if c := p.Col(r.Columns[0]); c != nil && c.Kind == Datetime {
		f = func(sec float64) string { return time.Duration(sec * float64(time.Second)).String() }
	}
	return "gap " + f(r.Gap.Min) + " … " + f(r.Gap.Max) + ", median " + f(r.Gap.Median)
}

// detail describes a column's kind-specific settings in a few words.
func detail(c *Column) string {
	var b strings.Builder
	switch c.Kind {
	case Numeric:
		if c.Integer {
			b.WriteString("int ")
		} else {
			fmt.Fprintf(&b, "%d dp ", c.Decimals)
		}
		b.WriteString(num(c.Min) + ".." + num(c.Max))
	case Datetime:
		b.WriteString(strconv.Quote(c.Format))
		if c.Min != 0 || c.Max != 0 {
			fmt.Fprintf(&b, " %s..%s", stamp(c.Min, c.Format), stamp(c.Max, c.Format))
		}
	case Boolean:
		b.WriteString(strconv.Quote(c.TrueToken) + "/" + strconv.Quote(c.FalseToken))
	case ID:
		b.WriteString(strconv.Quote(c.IDFormat))
	case Categorical:
		if c.Mode != "" {
			b.WriteString("mode " + strconv.Quote(c.Mode))
		}
	}
	if len(c.MissingTokens) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString("missing as")
		for _, m := range c.MissingTokens {
			b.WriteString(" " + strconv.Quote(m))
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// clean keeps a column name on one tabwriter cell.
func clean(s string) string {
	if strings.ContainsAny(s, "\t\n\r\v\f") {
		return strconv.Quote(s)
	}
	return s
}

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// stamp formats seconds since 1970 in layout, in UTC.
func stamp(sec float64, layout string) string {
	s := int64(sec)
	return time.Unix(s, int64((sec-float64(s))*1e9)).UTC().Format(layout)
}
