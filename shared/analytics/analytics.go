// Package analytics keeps per-tenant, per-dataset daily aggregates of
// finished jobs (jobs, rows, run seconds, epsilon spent, quality and
// privacy scores, failures by code, compute and AI cost) in the state store, and answers range
// queries over them by day, week or month, for one tenant or the whole
// platform.
//
// The aggregates are fed by a consumer of job-events (functions/analytics):
// each terminal event (succeeded, failed, cancelled) is folded into its
// day's document in one transaction together with a per-job dedupe record,
// so Pub/Sub's redeliveries and duplicates count once.
//
// Documents are one per tenant and month (analytics_monthly) holding each
// day's aggregate per dataset: a tenant's query reads one document per month
// of its range by id (a year is twelve reads); the platform view queries
// each month's documents by their month field. A month of a tenant with a
// hundred datasets active every day is about 0.6 MB, within Firestore's
// 1 MiB document limit.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Collections.
const (
	CollMonthly = "analytics_monthly"
	CollSeen    = "analytics_seen"
)

// Fact is what one finished job contributes.
type Fact struct {
	JobID   string
	Tenant  string
	Dataset string
	Model   string
	State   string // succeeded, failed or cancelled
	At      time.Time
	Rows    int64   // rows produced (succeeded jobs)
	Seconds float64 // from admission to the terminal state
	Epsilon float64 // charged to the dataset's privacy budget
	// Quality is the evaluation's overall score (0..1), Privacy the
	// privacy score (0..1, see PrivacyScore); nil when not evaluated.
	Quality, Privacy *float64
	// FailureCode classifies a failure (an errs code name).
	FailureCode string
	// ComputeCost is the estimated compute cost of the job in US dollars
	// (Prices.Compute of Seconds), AICost what its model calls cost
	// (jobs.Job.AI).
	ComputeCost, AICost float64
}

// Score is a running mean.
type Score struct {
	Sum float64 `json:"sum"`
	N   int64   `json:"n"`
}

// Mean returns the mean, or nil without samples.
func (s Score) Mean() *float64 {
	if s.N == 0 {
		return nil
	}
	m := s.Sum / float64(s.N)
	return &m
}

func (s *Score) add(o Score) { s.Sum += o.Sum; s.N += o.N }

// monthDoc is the stored document of one tenant and month: Days[day][dataset].
type monthDoc struct {
	Tenant string                       `json:"tenant"`
	Month  string                       `json:"month"` // YYYY-MM
	Days   map[string]map[string]*Daily `json:"days"`
}

// Daily is the aggregate of one tenant, dataset and day.
type Daily struct {
	Tenant    string `json:"-"`
	Dataset   string `json:"-"`
	Day       string `json:"-"` // YYYY-MM-DD (UTC)
	Jobs      int64  `json:"jobs"`
	Succeeded int64  `json:"succeeded"`
	Failed    int64  `json:"failed"`
	Cancelled int64  `json:"cancelled"`
	Rows      int64  `json:"rows"`
	// Seconds sums the jobs' time from admission to their end.
	Seconds float64 `json:"seconds"`
	Epsilon float64 `json:"epsilon"`
	Quality Score   `json:"quality"`
	Privacy Score   `json:"privacy"`
	// Failures counts failed jobs by error code.
	Failures map[string]int64 `json:"failures,omitempty"`
	// QualityByModel is Quality by model, for recommendations.
	QualityByModel map[string]Score `json:"quality_by_model,omitempty"`
	// RowsByModel is Rows by model.
	RowsByModel map[string]int64 `json:"rows_by_model,omitempty"`
	// ComputeCost and AICost sum the jobs' costs in US dollars (see
	// Fact); days recorded before costs were kept read as 0.
	ComputeCost float64 `json:"compute_cost_usd,omitempty"`
	AICost      float64 `json:"ai_cost_usd,omitempty"`
}

// Cost is the day's total cost in US dollars.
func (d Daily) Cost() float64 { return d.ComputeCost + d.AICost }

// DocID names the document of tenant and month (YYYY-MM).
func DocID(tenant, month string) string {
	return escape(tenant) + "|" + month
}

// escape keeps ids free of the separator and of "/" (Firestore's rule).
func escape(s string) string {
	return strings.NewReplacer("%", "%25", "|", "%7C", "/", "%2F").Replace(s)
}

// Store reads and writes the aggregates.
type Store struct {
	st state.Store
}

// New returns a Store on st.
func New(st state.Store) (*Store, error) {
	if st == nil {
		return nil, errors.New("analytics.New: nil state store")
	}
	return &Store{st: st}, nil
}

// Record folds f into its day's aggregate, once per job: a second Record
// of the same job id changes nothing and reports false.
func (s *Store) Record(ctx context.Context, f Fact) (bool, error) {
	if f.JobID == "" || f.Tenant == "" {
		return false, errs.New(errs.InvalidArgument, "analytics.Record: a fact needs a job id and a tenant")
	}
	if f.Dataset == "" {
		f.Dataset = "-"
	}
	day := f.At.UTC().Format(time.DateOnly)
	id := DocID(f.Tenant, day[:7])
	recorded := false
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		recorded = false
		var seen struct {
			Day string `json:"day"`
		}
		switch err := tx.Get(CollSeen, f.JobID, &seen); {
		case err == nil:
			return nil // already counted
		case !errors.Is(err, state.ErrNotFound):
			return err
		}
		var doc monthDoc
		if err := tx.Get(CollMonthly, id, &doc); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		doc.Tenant, doc.Month = f.Tenant, day[:7]
		if doc.Days == nil {
			doc.Days = map[string]map[string]*Daily{}
		}
		if doc.Days[day] == nil {
			doc.Days[day] = map[string]*Daily{}
		}
		d := doc.Days[day][f.Dataset]
		if d == nil {
			d = &Daily{}
			doc.Days[day][f.Dataset] = d
		}
		fold(d, f)
		if err := tx.Set(CollMonthly, id, &doc); err != nil {
			return err
		}
		recorded = true
		return tx.Set(CollSeen, f.JobID, map[string]string{"day": day, "tenant": f.Tenant})
	})
	if err != nil {
		return false, fmt.Errorf("analytics.Record %s: %w", f.JobID, err)
	}
	return recorded, nil
}

// fold adds f to d.
func fold(d *Daily, f Fact) {
	d.Jobs++
	switch f.State {
	case "succeeded":
		d.Succeeded++
	case "failed":
		d.Failed++
		code := f.FailureCode
		if code == "" {
			code = "unknown"
		}
		if d.Failures == nil {
			d.Failures = map[string]int64{}
		}
		d.Failures[code]++
	case "cancelled":
		d.Cancelled++
	}
	d.Rows += f.Rows
	d.Seconds += f.Seconds
	d.Epsilon += f.Epsilon
	d.ComputeCost += f.ComputeCost
	d.AICost += f.AICost
	model := f.Model
	if model == "" {
		model = "unknown"
	}
	if f.Rows > 0 {
		if d.RowsByModel == nil {
			d.RowsByModel = map[string]int64{}
		}
		d.RowsByModel[model] += f.Rows
	}
	if f.Quality != nil {
		d.Quality.add(Score{Sum: *f.Quality, N: 1})
		if d.QualityByModel == nil {
			d.QualityByModel = map[string]Score{}
		}
		s := d.QualityByModel[model]
		s.add(Score{Sum: *f.Quality, N: 1})
		d.QualityByModel[model] = s
	}
	if f.Privacy != nil {
		d.Privacy.add(Score{Sum: *f.Privacy, N: 1})
	}
}

// Granularity is the width of a query's buckets.
type Granularity string

const (
	Day   Granularity = "day"
	Week  Granularity = "week" // ISO weeks, starting on Monday
	Month Granularity = "month"
)

// ParseGranularity accepts day, week or month ("" is day).
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case "":
		return Day, nil
	case Day, Week, Month:
		return g, nil
	}
	return "", errs.Public(errs.InvalidArgument, "granularity %q: use day, week or month", s)
}

// MaxRange bounds a query: three years of days.
const MaxRange = 3 * 366 * 24 * time.Hour

// Query selects aggregates: Tenant ("" for every tenant: the platform
// view), optionally one Dataset, days From..To inclusive (UTC dates).
type Query struct {
	Tenant      string
	Dataset     string
	From, To    time.Time
	Granularity Granularity
}

// Bucket is one period of a query's answer.
type Bucket struct {
	Start     string           `json:"start"` // YYYY-MM-DD, the period's first day
	Jobs      int64            `json:"jobs"`
	Succeeded int64            `json:"succeeded"`
	Failed    int64            `json:"failed"`
	Cancelled int64            `json:"cancelled"`
	Rows      int64            `json:"rows"`
	Seconds   float64          `json:"compute_seconds"`
	Epsilon   float64          `json:"epsilon"`
	Quality   *float64         `json:"quality"`
	Privacy   *float64         `json:"privacy"`
	Failures  map[string]int64 `json:"failures,omitempty"`
	// Cost is ComputeCost + AICost, in US dollars.
	Cost        float64 `json:"cost_usd"`
	ComputeCost float64 `json:"compute_cost_usd"`
	AICost      float64 `json:"ai_cost_usd"`

	quality, privacy Score
}

// Result is a query's answer: the buckets in order (every period of the
// range, empty ones included) and the per-dataset totals.
type Result struct {
	From        string                 `json:"from"`
	To          string                 `json:"to"`
	Granularity Granularity            `json:"granularity"`
	Buckets     []Bucket               `json:"buckets"`
	Datasets    map[string]*DatasetSum `json:"datasets"`
}

// DatasetSum totals one dataset over the range.
type DatasetSum struct {
	Jobs           int64            `json:"jobs"`
	Failed         int64            `json:"failed"`
	Rows           int64            `json:"rows"`
	Epsilon        float64          `json:"epsilon"`
	Quality        *float64         `json:"quality"`
	Privacy        *float64         `json:"privacy"`
	QualityByModel map[string]Score `json:"quality_by_model,omitempty"`
	Cost           float64          `json:"cost_usd"`

	quality, privacy Score
}

// Days returns the stored daily aggregates of q's range (all datasets
// unless q.Dataset), in day order.
func (s *Store) Days(ctx context.Context, q Query) ([]Daily, error) {
	from, to, err := q.bounds()
	if err != nil {
		return nil, err
	}
	lo, hi := from.Format(time.DateOnly), to.Format(time.DateOnly)
	var out []Daily
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		month := m.Format("2006-01")
		var docs []monthDoc
		if q.Tenant != "" {
			var doc monthDoc
			switch err := s.st.Get(ctx, CollMonthly, DocID(q.Tenant, month), &doc); {
			case errors.Is(err, state.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("analytics: read %s: %w", month, err)
			}
			docs = append(docs, doc)
		} else {
			found, err := s.st.Query(ctx, CollMonthly, state.Query{Where: []state.Eq{{Field: "month", Value: month}}})
			if err != nil {
				return nil, fmt.Errorf("analytics: query %s: %w", month, err)
			}
			for _, f := range found {
				var doc monthDoc
				if err := f.DataTo(&doc); err != nil {
					return nil, err
				}
				docs = append(docs, doc)
			}
		}
		for _, doc := range docs {
			for d, byDataset := range doc.Days {
				if d < lo || d > hi {
					continue
				}
				for ds, agg := range byDataset {
					if agg == nil || q.Dataset != "" && ds != q.Dataset {
						continue
					}
					a := *agg
					a.Tenant, a.Dataset, a.Day = doc.Tenant, ds, d
					out = append(out, a)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Tenant+"|"+out[i].Dataset < out[j].Tenant+"|"+out[j].Dataset
	})
	return out, nil
}

func (q Query) bounds() (from, to time.Time, err error) {
	from, to = truncDay(q.From), truncDay(q.To)
	switch {
	case from.IsZero() || to.IsZero():
		return from, to, errs.Public(errs.InvalidArgument, "a range needs from and to dates")
	case to.Before(from):
		return from, to, errs.Public(errs.InvalidArgument, "to (%s) is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	case to.Sub(from) > MaxRange:
		return from, to, errs.Public(errs.InvalidArgument, "the range is over three years; ask for less")
	}
	return from, to, nil
}

// Aggregate answers q: the daily aggregates summed into buckets.
func (s *Store) Aggregate(ctx context.Context, q Query) (*Result, error) {
	g, err := ParseGranularity(string(q.Granularity))
	if err != nil {
		return nil, err
	}
	days, err := s.Days(ctx, q)
	if err != nil {
		return nil, err
	}
	from, to, _ := q.bounds()
	return Summarize(days, from, to, g), nil
}

// Summarize sums days (from..to) into buckets of g.
func Summarize(days []Daily, from, to time.Time, g Granularity) *Result {
	from, to = truncDay(from), truncDay(to)
	res := &Result{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Granularity: g,
		Datasets: map[string]*DatasetSum{}}
	index := map[string]int{}
	for t := BucketStart(from, g); !t.After(to); t = next(t, g) {
		index[t.Format(time.DateOnly)] = len(res.Buckets)
		res.Buckets = append(res.Buckets, Bucket{Start: t.Format(time.DateOnly)})
	}
	for _, d := range days {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			continue
		}
		i, ok := index[BucketStart(day, g).Format(time.DateOnly)]
		if !ok {
			continue
		}
		b := &res.Buckets[i]
		b.Jobs += d.Jobs
		b.Succeeded += d.Succeeded
		b.Failed += d.Failed
		b.Cancelled += d.Cancelled
		b.Rows += d.Rows
		b.Seconds += d.Seconds
		b.Epsilon += d.Epsilon
		b.ComputeCost += d.ComputeCost
		b.AICost += d.AICost
		b.quality.add(d.Quality)
		b.privacy.add(d.Privacy)
		for k, v := range d.Failures {
			if b.Failures == nil {
				b.Failures = map[string]int64{}
			}
			b.Failures[k] += v
		}
		ds := res.Datasets[d.Dataset]
		if ds == nil {
			ds = &DatasetSum{}
			res.Datasets[d.Dataset] = ds
		}
		ds.Jobs += d.Jobs
		ds.Failed += d.Failed
		ds.Rows += d.Rows
		ds.Epsilon += d.Epsilon
		ds.Cost += d.Cost()
		ds.quality.add(d.Quality)
		ds.privacy.add(d.Privacy)
		for m, sc := range d.QualityByModel {
			if ds.QualityByModel == nil {
				ds.QualityByModel = map[string]Score{}
			}
			x := ds.QualityByModel[m]
			x.add(sc)
			ds.QualityByModel[m] = x
		}
	}
	for i := range res.Buckets {
		b := &res.Buckets[i]
		b.Quality, b.Privacy = b.quality.Mean(), b.privacy.Mean()
		b.Seconds = round(b.Seconds, 3)
		b.Epsilon = round(b.Epsilon, 6)
		// Costs to a millionth of a dollar, the unit AI costs are kept in.
		b.ComputeCost, b.AICost = round(b.ComputeCost, 6), round(b.AICost, 6)
		b.Cost = round(b.ComputeCost+b.AICost, 6)
	}
	for _, ds := range res.Datasets {
		ds.Cost = round(ds.Cost, 6)
		ds.Quality, ds.Privacy = ds.quality.Mean(), ds.privacy.Mean()
	}
	return res
}

// BucketStart is the first day of t's bucket.
func BucketStart(t time.Time, g Granularity) time.Time {
	t = truncDay(t)
	switch g {
	case Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return t.AddDate(0, 0, -wd)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func next(t time.Time, g Granularity) time.Time {
	switch g {
	case Week:
		return t.AddDate(0, 0, 7)
	case Month:
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

func truncDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func round(x float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(x*p) / p
}
