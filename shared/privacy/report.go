package privacy

import "synthos.dev/synthos/shared/profile"

// ReportVersion is the version of the Report JSON layout.
const ReportVersion = 1

// Report is the privacy-risk evaluation of a synthetic table. Distances are
// Gower distances in [0, 1]. Each risk comes with the value the holdout
// gives (records the model never saw), which is what a model that
// generalises without memorising would score.
type Report struct {
	Version       int `json:"version"`
	TrainRows     int `json:"train_rows"`
	HoldoutRows   int `json:"holdout_rows"`
	SyntheticRows int `json:"synthetic_rows"`
	// Columns are the modelled columns distances are taken over.
	Columns  []string    `json:"columns"`
	Excluded []Exclusion `json:"excluded,omitempty"`

	DCR                DCR                 `json:"dcr"`
	NNDR               NNDR                `json:"nndr"`
	Identical          Identical           `json:"identical"`
	Membership         Membership          `json:"membership_inference"`
	AttributeInference *AttributeInference `json:"attribute_inference,omitempty"`
	PII                PIILeakage          `json:"pii_leakage"`
	KAnonymity         *KAnonymity         `json:"k_anonymity,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// DCR is the distance to closest record.
type DCR struct {
	// Queries is the number of synthetic rows sampled as queries.
	Queries int `json:"queries"`
	// CloserToTrainShare is the share of queries closer to their nearest
	// training row than to their nearest holdout row (ties count one half),
	// measured against the whole train and holdout and adjusted for their
	// sizes: 0.5 is ideal, 1 means every synthetic row sits on a training
	// record. RawShare is the unadjusted share, whose ideal RawShareIdeal is
	// train/(train+holdout) rows.
	CloserToTrainShare float64 `json:"closer_to_train_share"`
	RawShare           float64 `json:"raw_share"`
	RawShareIdeal      float64 `json:"raw_share_ideal"`
	// EqualSizeShare is the same share against an equal-size random subset
	// of train and the holdout (or a subset of the holdout when train is
	// the smaller), as SDMetrics and MOSTLY AI compute it: 0.5 is ideal,
	// but memorisation is diluted, since a copied row whose original is not
	// in the subset looks unseen; copies of every training row score about
	// (1 + ReferenceRows/TrainRows) / 2.
	EqualSizeShare float64 `json:"equal_size_share"`
	// ReferenceRows is the size of each of the two sets EqualSizeShare
	// compares.
	ReferenceRows int `json:"reference_rows"`
	// Ties counts queries at the same distance from both equal-size sets.
	Ties int `json:"ties"`

	// SyntheticMedian and SyntheticP5 are the median and 5th percentile of
	// the distance from each query to its closest row of the whole train.
	SyntheticMedian float64 `json:"synthetic_median"`
	SyntheticP5     float64 `json:"synthetic_p5"`
	// HoldoutQueries holdout rows give the baseline: the same distances from
	// real records the model never saw to the training rows.
	HoldoutQueries int     `json:"holdout_queries"`
	HoldoutMedian  float64 `json:"holdout_median"`
	HoldoutP5      float64 `json:"holdout_p5"`
}

// NNDR is the nearest-neighbour distance ratio d1/d2 of a row's two closest
// training rows (0/0 counts as 1: a row equal to two training rows singles
// neither out). Values near 0 mean the row is much closer to one training
// record than to any other, i.e. it reveals that record. The queries are the
// DCR's.
type NNDR struct {
	SyntheticMedian float64 `json:"synthetic_median"`
	SyntheticP5     float64 `json:"synthetic_p5"`
	HoldoutMedian   float64 `json:"holdout_median"`
	HoldoutP5       float64 `json:"holdout_p5"`
}

// Identical counts rows equal to some training row on every modelled column.
// Every synthetic and holdout row is checked (no sampling).
type Identical struct {
	SyntheticMatches int     `json:"synthetic_matches"`
	SyntheticShare   float64 `json:"synthetic_share"`
	// HoldoutShare is the base rate: real unseen rows that happen to equal
	// a training row.
	HoldoutMatches int     `json:"holdout_matches"`
	HoldoutShare   float64 `json:"holdout_share"`
}

// Membership is a distance-based membership-inference attack: the attacker
// holds candidate records, half training members and half holdout
// non-members, and calls a candidate a member the closer it lies to the
// synthetic table.
type Membership struct {
	Members    int `json:"members"`
	NonMembers int `json:"non_members"`
	// AUC of the attack; 0.5 is ideal (no better than a coin).
	AUC float64 `json:"auc"`
	// Advantage is the best true-positive rate minus false-positive rate
	// over all distance thresholds; 0 is ideal.
	Advantage float64 `json:"advantage"`
}

// AttributeInference is the risk of guessing a sensitive value of a known
// person: the attacker knows a record's Known columns, finds the nearest
// synthetic row on them and reads the sensitive value off it (the most
// common value, or the median number, among identical nearest rows).
type AttributeInference struct {
	Known []string `json:"known"`
	// Records is the number of training and of holdout records attacked.
	Records int `json:"records"`
	// NumericTolerance is the largest scaled error (share of the training
	// range) that counts a numeric guess as right.
	NumericTolerance float64         `json:"numeric_tolerance"`
	Columns          []AttributeRisk `json:"columns"`
}

// AttributeRisk is one sensitive column's result.
type AttributeRisk struct {
	Column          string  `json:"column"`
	TrainAccuracy   float64 `json:"train_accuracy"`
	HoldoutAccuracy float64 `json:"holdout_accuracy"`
	// Risk is TrainAccuracy − HoldoutAccuracy: what the synthetic table
	// reveals about its training records beyond what the population
	// patterns it learned reveal about anyone. 0 is ideal.
	Risk float64 `json:"risk"`
}

// PIILeakage reports real identifier values (cells of id and PII columns of
// the training table) found verbatim in the synthetic table's id, PII and
// text columns. It counts and names columns; it never carries the values.
type PIILeakage struct {
	Checked     []string    `json:"checked"` // real identifier columns
	Scanned     []string    `json:"scanned"` // synthetic columns searched
	LeakedCells int         `json:"leaked_cells"`
	Columns     []PIIColumn `json:"columns,omitempty"` // checked columns with a leak
}

// PIIColumn is one real identifier column with values found in the output.
type PIIColumn struct {
	Column string          `json:"column"`
	Kind   profile.Kind    `json:"kind"`
	PII    profile.PIIKind `json:"pii,omitempty"`
	// LeakedCells synthetic cells hold one of LeakedValues distinct
	// training values of the column.
	LeakedCells  int `json:"leaked_cells"`
	LeakedValues int `json:"leaked_values"`
	// HoldoutOnlyValues counts values of the column seen only in the
	// holdout that also appear in the output: the model never saw them, so
	// they measure chance collisions (short codes, common names) rather
	// than leakage.
	HoldoutOnlyValues int `json:"holdout_only_values"`
	// FoundIn names the synthetic columns holding the leaked values.
	FoundIn []string `json:"found_in"`
}

// KAnonymity describes the equivalence classes of the synthetic rows on the
// quasi-identifier columns (exact values).
type KAnonymity struct {
	Quasi        []string `json:"quasi"`
	K            int      `json:"k"`
	Classes      int      `json:"classes"`
	MinClassSize int      `json:"min_class_size"`
	// ShareBelowK is the share of synthetic rows in classes smaller than K.
	ShareBelowK float64 `json:"share_below_k"`
	// Unique is the number of quasi-identifier combinations that occur once
	// in the synthetic table; UniqueMatchShare is the share of them that
	// also occur exactly once in train, and so point at one real person.
	Unique           int     `json:"unique"`
	UniqueMatchShare float64 `json:"unique_match_share"`
}
