package design

import (
	"strings"

	"github.com/cespare/xxhash/v2"
)

// DefaultTextLen bounds a text cell when the spec gives no max_len.
const DefaultTextLen = 280

// OfflineText writes column col of a row from its template: placeholders
// take the row's values and a phrase is chosen among Phrases[row[By]] (or
// Phrases["*"]) by a hash of the row, so the same row always reads the same
// and rows with different values read differently. It is what the offline
// provider writes: consistent with the row (a 1-star review complains) at
// the engine's speed.
func OfflineText(t *Table, full []string, col int) string {
	ts := t.Columns[col].Text
	var b strings.Builder
	h := xxhash.New()
	for i, v := range full {
		if i != col {
			_, _ = h.WriteString(v)
			_, _ = h.Write([]byte{0x1f})
		}
	}
	sum := h.Sum64()
	phrase := ""
	if len(ts.Phrases) > 0 {
		list := ts.Phrases["*"]
		if ts.By != "" {
			for i := range t.Columns {
				if t.Columns[i].Name == ts.By {
					if l, ok := ts.Phrases[full[i]]; ok {
						list = l
					}
					break
				}
			}
		}
		if len(list) > 0 {
			phrase = list[sum%uint64(len(list))]
		}
	}
	tpl := ts.Template
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			break
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			break
		}
		b.WriteString(tpl[:i])
		name := tpl[i+1 : i+j]
		switch {
		case name == "phrase":
			b.WriteString(phrase)
		default:
			for k := range t.Columns {
				if t.Columns[k].Name == name {
					b.WriteString(full[k])
					break
				}
			}
		}
		tpl = tpl[i+j+1:]
	}
	out := strings.TrimSpace(b.String())
	limit := ts.MaxLen
	if limit <= 0 {
		limit = DefaultTextLen
	}
	if len(out) > limit {
		out = truncateRunes(out, limit)
	}
	return out
}

// truncateRunes cuts s to at most n bytes without splitting a character.
func truncateRunes(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
