package synth

import (
	"fmt"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
)

// A distance travelled between two points (a trip's length next to its
// start and end coordinates) follows the great-circle distance between
// them, which no line on the four coordinates can express: on a generated
// table of trips with stations, the tree drew distances 0.2 to 3.4 times
// the great-circle one where real trips ran 1.1 to 1.6 times it, and a
// discriminator given the coordinates and the distance scored 0.68. For
// each geodesic relation of the profile (relations.Geodesic) the tree
// keeps the great-circle distance between its points as a derived column
// that leaf lines may follow (see leaflink.go) once the four coordinates
// are drawn, so that the distance is drawn in dependency order, and the
// columns drawn after it (a fare) follow the distance it has.

// GeoFeature is a derived column: the great-circle distance in km between
// the points (Coords[0], Coords[1]) and (Coords[2], Coords[3]), modelled
// number columns holding latitudes and longitudes in degrees. A leaf line's
// Parent len(Schema.Modelled)+g reads the Tree's Geo[g].
type GeoFeature struct {
	Coords [4]int32
}

// geoFeatures returns the derived columns of p's geodesic relations whose
// coordinates the tree models as numbers (each pair of points once).
func geoFeatures(s *Schema, p *profile.Profile) []GeoFeature {
	modelled := map[string]int32{}
	for k, j := range s.Modelled {
		if c := &s.Cols[j]; c.Kind == profile.Numeric {
			modelled[c.Name] = int32(k)
		}
	}
	var out []GeoFeature
outer:
	for _, r := range p.Relations {
		if r.Kind != relations.Geodesic || len(r.Columns) != 5 {
			continue
		}
		var g GeoFeature
		for i, name := range r.Columns[1:] {
			k, ok := modelled[name]
			if !ok {
				continue outer
			}
			g.Coords[i] = k
		}
		for _, h := range out {
			if h == g {
				continue outer
			}
		}
		out = append(out, g)
	}
	return out
}

// addGeo appends the derived columns' training values to e.num (NaN where
// a coordinate is missing).
func addGeo(e *encoded, geo []GeoFeature) {
	for _, g := range geo {
		v := make([]float64, e.n)
		for i := range v {
			v[i] = relations.GreatCircle(e.num[g.Coords[0]][i], e.num[g.Coords[1]][i], e.num[g.Coords[2]][i], e.num[g.Coords[3]][i])
		}
		e.num = append(e.num, v)
	}
}

// lineX is the value of a leaf line's parent p in the row whose modelled
// values so far are vals: a modelled column's own, or a derived column's
// computed from them.
func (m *Tree) lineX(vals []float64, p int32) float64 {
	nm := int32(len(m.Carts))
	if p < nm {
		return vals[p]
	}
	c := &m.Geo[p-nm].Coords
	return relations.GreatCircle(vals[c[0]], vals[c[1]], vals[c[2]], vals[c[3]])
}

// validateGeo checks a loaded model's derived columns: four distinct
// number columns each.
func (m *Tree) validateGeo() error {
	nm := len(m.Schema.Modelled)
	for _, g := range m.Geo {
		for i, c := range g.Coords {
			if c < 0 || int(c) >= nm || !m.Schema.Cols[m.Schema.Modelled[c]].isNumber() || m.Schema.Cols[m.Schema.Modelled[c]].Kind != profile.Numeric {
				return fmt.Errorf("a derived distance on column %d", c)
			}
			for _, d := range g.Coords[:i] {
				if d == c {
					return fmt.Errorf("a derived distance on column %d twice", c)
				}
			}
		}
	}
	return nil
}
