// Package profile infers what each column of a table holds (its kind, PII
// kind, format, bounds, quantiles and missing-value tokens) and lets a JSON
// schema file override the inference. Infer profiles a table in memory;
// Stream profiles one row at a time in memory that does not grow with the
// rows (sketches and a reservoir sample), for inputs too large to hold.
package profile

import (
	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/relations"
)

// Kind is what a column holds, as the models see it.
type Kind string

const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
	Boolean     Kind = "boolean"
	Datetime    Kind = "datetime"
	ID          Kind = "id"   // a key: unique per row; regenerated fresh, never copied
	Text        Kind = "text" // free text
	PII         Kind = "pii"  // personal data of kind Column.PII; regenerated, never copied
)

// PIIKind names the kind of personal data a PII column holds; package pii
// detects and generates every kind.
type PIIKind = pii.Kind

const (
	Email      = pii.Email
	Phone      = pii.Phone
	PersonName = pii.PersonName
	Address    = pii.Address
	NationalID = pii.NationalID // US SSN, UK NINO or the source's own layout
	Card       = pii.Card       // payment card, Luhn-valid
	IBAN       = pii.IBAN
	IP         = pii.IP
	URL        = pii.URL
)

// Column is the profile of one column.
type Column struct {
	Name       string  `json:"name"`
	Kind       Kind    `json:"kind"`
	PII        PIIKind `json:"pii,omitempty"`
	Confidence float64 `json:"confidence"` // share of non-missing cells consistent with Kind, 0..1

	// Numeric columns. Min and Max also bound Datetime columns, in seconds
	// since 1970 (UTC for layouts without a zone). Integer means every value
	// is a whole number, however written: "12" or "12.0" (Decimals 1).
	// Decimals is the digits after the point the source writes; Trim means
	// the source drops trailing zeros ("2", "2.5", "2.25"), so Decimals is
	// the most, not a fixed width. AppendNumber writes numbers so.
	Integer  bool    `json:"integer,omitempty"`
	Decimals int     `json:"decimals,omitempty"`
	Trim     bool    `json:"trim_zeros,omitempty"`
	Min      float64 `json:"min,omitempty"`
	Max      float64 `json:"max,omitempty"`

	// Quantiles of a numeric or datetime column at QuantileProbs (datetimes
	// in seconds since 1970, as Min and Max): exact over the rows kinds were
	// chosen on when Infer profiles a table, from a t-digest over every row
	// when Stream profiles one larger than its sample.
	Quantiles []float64 `json:"quantiles,omitempty"`

	// Datetime columns: a Go time layout that parses every non-missing cell.
	Format string `json:"format,omitempty"`

	// Boolean columns: the spelling of true and false found in the data.
	TrueToken  string `json:"true_token,omitempty"`
	FalseToken string `json:"false_token,omitempty"`

	// ID columns: a pattern that fresh keys follow, e.g. "CUST-%06d",
	// "uuid", "hex:16" or "re:[A-Z]{3}[0-9]{5}" (the forms are listed in
	// package pii).
	IDFormat string `json:"id_format,omitempty"`

	// PII columns of a shaped kind (phone, national_id, card, iban): the
	// layout fresh values follow, a regular expression of the subset
	// package pii states, e.g. "[0-9]{3}-[0-9]{2}-[0-9]{4}".
	Pattern string `json:"pattern,omitempty"`

	// Categorical columns: the most frequent value, for summaries.
	Mode string `json:"mode,omitempty"`

	// A public domain, declared by the user in a schema, never inferred:
	// Categories lists every category a categorical column may hold, and
	// PublicBounds says Min and Max of a numeric or datetime column were
	// written by the user rather than read from the data. The dp model
	// treats them as public knowledge and spends no privacy budget
	// discovering them (see shared/dp); other models ignore them.
	Categories   []string `json:"categories,omitempty"`
	PublicBounds bool     `json:"public_bounds,omitempty"`

	Distinct      int      `json:"distinct"`
	Missing       int      `json:"missing"`
	MissingRate   float64  `json:"missing_rate"`
	MissingTokens []string `json:"missing_tokens,omitempty"` // spellings of missing seen, e.g. "?", "NA", ""
}

// Profile describes a table.
type Profile struct {
	Version int      `json:"version"`
	Rows    int      `json:"rows"`
	Sampled int      `json:"sampled,omitempty"` // rows examined for kinds and distinct counts, when fewer than Rows
	Columns []Column `json:"columns"`
	// Relations the rows obey, found by Infer (package relations) or
	// declared in a schema; every model keeps them in its sample.
	Relations []relations.Relation `json:"relations,omitempty"`
}

// Col returns the profile of the named column, or nil.
func (p *Profile) Col(name string) *Column {
	for i := range p.Columns {
		if p.Columns[i].Name == name {
			return &p.Columns[i]
		}
	}
	return nil
}
