package design

import (
	"fmt"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/rules"
)

// A domain pack is built-in knowledge of one business domain: the tables a
// dataset of that domain has, realistic vocabularies and distributions, and
// the rules that hold in it. The offline provider designs specs from packs;
// a model provider's answer is checked against the same schema and rules.

// Domains lists the built-in packs.
var Domains = []string{"retail", "finance", "healthcare", "saas", "hr"}

// PackOptions adjust a pack to a description.
type PackOptions struct {
	// Rows of the main table.
	Rows int64
	// Region: "eu", "us", "uk" or "" (global).
	Region string
	// Features switch optional parts on: "returns" (retail), "fraud"
	// (finance), "readmissions" (healthcare), "churn" (saas), "attrition"
	// (hr), "reviews" (retail).
	Features []string
}

func (o PackOptions) has(f string) bool { return slices.Contains(o.Features, f) }

// Pack builds the spec of a domain.
func Pack(domain string, o PackOptions) (*Spec, error) {
	if o.Rows <= 0 {
		o.Rows = 10000
	}
	var s *Spec
	switch domain {
	case "retail":
		s = retail(o)
	case "finance":
		s = finance(o)
	case "healthcare":
		s = healthcare(o)
	case "saas":
		s = saas(o)
	case "hr":
		s = hr(o)
	default:
		return nil, fmt.Errorf("design: unknown domain %q (built in: %s): %w", domain, strings.Join(Domains, ", "), ErrInvalid)
	}
	s.Version, s.Domain = SpecVersion, domain
	if err := Validate(s); err != nil {
		return nil, fmt.Errorf("design: pack %s: %w", domain, err)
	}
	return s, nil
}

// --- builders (short names keep the packs readable) ---

func id(name, prefix string, width int) Column {
	return Column{Name: name, Kind: KindID, Prefix: prefix, Width: width, Start: 1}
}

func pii(name, kind, pattern string) Column {
	return Column{Name: name, Kind: KindPII, PII: kind, Pattern: pattern}
}

func ref(name, tbl, col string, d *Distribution) Column {
	return Column{Name: name, Kind: KindRef, Ref: &Ref{Table: tbl, Column: col}, Dist: d}
}

func num(name string, d Distribution, integer bool, decimals int) Column {
	return Column{Name: name, Kind: KindNumeric, Dist: &d, Integer: integer, Decimals: decimals}
}

func date(name, layout, typ, from, to string) Column {
	return Column{Name: name, Kind: KindDatetime, Format: layout, Dist: &Distribution{Type: typ, Min: Bound(from), Max: Bound(to)}}
}

// cat takes value, weight pairs: cat("status", "open", 3, "closed", 1).
func cat(name string, pairs ...any) Column {
	c := Column{Name: name, Kind: KindCategorical}
	for i := 0; i+1 < len(pairs); i += 2 {
		w, ok := pairs[i+1].(float64)
		if !ok {
			w = float64(pairs[i+1].(int))
		}
		c.Categories = append(c.Categories, Category{Value: pairs[i].(string), Weight: w})
	}
	return c
}

func boolean(name string, pTrue float64) Column {
	return Column{Name: name, Kind: KindBoolean, Categories: []Category{{"false", 1 - pTrue}, {"true", pTrue}}}
}

func derived(name, op, a, b string, decimals int) Column {
	return Column{Name: name, Kind: KindDerived, Expr: &Expr{Op: op, Args: []string{a, b}, Decimals: decimals}}
}

func text(name, tpl, by string, phrases map[string][]string) Column {
	return Column{Name: name, Kind: KindText, Text: &TextSpec{Template: tpl, By: by, Phrases: phrases, MaxLen: 280, Language: "en"}}
}

func when(c Column, col string, vals ...string) Column {
	c.When = &Condition{Column: col, Equals: vals}
	return c
}

func meaning(c Column, m string) Column { c.Meaning = m; return c }

func missing(c Column, share float64) Column { c.Missing = share; return c }

func uniform(lo, hi float64) Distribution {
	return Distribution{Type: "uniform", Min: fb(lo), Max: fb(hi)}
}

func normal(mean, sd, lo, hi float64) Distribution {
	return Distribution{Type: "normal", Mean: mean, SD: sd, Min: fb(lo), Max: fb(hi)}
}

func lognormal(median, sigma, lo, hi float64) Distribution {
	return Distribution{Type: "lognormal", Median: median, Sigma: sigma, Min: fb(lo), Max: fb(hi)}
}

func exponential(mean, lo, hi float64) Distribution {
	return Distribution{Type: "exponential", Mean: mean, Min: fb(lo), Max: fb(hi)}
}

func zipf(s float64) *Distribution { return &Distribution{Type: "zipf", S: s, Min: "0", Max: "1"} }

func fb(v float64) Bound { return Bound(fmt.Sprint(v)) }

func sc(v string) *rules.Scalar { x := rules.Scalar(v); return &x }

func scalars(vals ...string) []rules.Scalar {
	out := make([]rules.Scalar, len(vals))
	for i, v := range vals {
		out[i] = rules.Scalar(v)
	}
	return out
}

func rRange(col, lo, hi string) rules.Rule {
	return rules.Rule{Type: rules.TypeRange, Column: col, Min: sc(lo), Max: sc(hi)}
}

func rCmp(left, op, right string) rules.Rule {
	return rules.Rule{Type: rules.TypeCompare, Left: left, Op: op, Right: right}
}

func rUnique(cols ...string) rules.Rule {
	return rules.Rule{Type: rules.TypeUnique, Columns: cols, Required: true}
}

func rIn(c Column) rules.Rule {
	var vals []string
	for _, k := range c.Categories {
		vals = append(vals, k.Value)
	}
	return rules.Rule{Type: rules.TypeIn, Column: c.Name, Values: scalars(vals...)}
}

func rFormat(col, re string) rules.Rule {
	return rules.Rule{Type: rules.TypeFormat, Column: col, Regex: re}
}

// --- regions ---

type region struct {
	countries []any // value, weight pairs
	currency  string
	phone     string
	iban      string
}

func regionOf(r string) region {
	switch r {
	case "eu":
		return region{countries: []any{"DE", 84, "FR", 68, "IT", 59, "ES", 48, "PL", 37, "RO", 19, "NL", 18,
			"BE", 12, "CZ", 11, "SE", 10.5, "PT", 10.4, "GR", 10.4, "HU", 9.6, "AT", 9.1, "DK", 5.9, "FI", 5.6, "IE", 5.2},
			currency: "EUR", phone: "+49 ### #######", iban: "DE####################"}
	case "uk":
		return region{countries: []any{"GB", 1}, currency: "GBP", phone: "+44 7### ######", iban: "GB##@@@@##############"}
	case "us":
		return region{countries: []any{"US", 1}, currency: "USD", phone: "(###) ###-####", iban: ""}
	}
	return region{countries: []any{"US", 33, "DE", 8, "GB", 7, "FR", 7, "IN", 14, "BR", 6, "JP", 6, "CA", 4, "AU", 3, "ES", 5},
		currency: "USD", phone: "+1 ### ### ####", iban: "DE####################"}
}

const (
	dayLayout  = "2006-01-02"
	timeLayout = "2006-01-02 15:04:05"
)

// --- packs ---

func retail(o PackOptions) *Spec {
	rg := regionOf(o.Region)
	country := cat("country", rg.countries...)
	customers := Table{Name: "customers", Rows: max(1, o.Rows/4), Columns: []Column{
		id("customer_id", "CUST-", 7),
		pii("full_name", "name", ""),
		pii("email", "email", ""),
		missing(pii("phone", "phone", rg.phone), 0.15),
		country,
		cat("segment", "consumer", 70, "small_business", 25, "corporate", 5),
		num("age", normal(41, 13, 18, 90), true, 0),
		date("signup_date", dayLayout, "growth", "2019-01-01", "2024-12-31"),
	}, Rules: []rules.Rule{rUnique("customer_id"), rRange("age", "18", "90"), rIn(country),
		rFormat("email", `^[^@\s]+@[^@\s]+\.[a-z]+$`)}}
	category := cat("category", "books", 13, "beauty", 12, "apparel", 27, "sports", 10, "home", 20, "electronics", 18)
	products := Table{Name: "products", Rows: max(1, o.Rows/20), Columns: []Column{
		id("product_id", "SKU-", 6),
		category,
		text("product_name", "{phrase}", "category", map[string][]string{
			"books":       {"Paperback Novel", "Cookbook", "Travel Guide", "Children's Picture Book", "Biography"},
			"beauty":      {"Face Serum", "Shampoo 500 ml", "Lipstick", "Sunscreen SPF 50", "Hand Cream"},
			"apparel":     {"Cotton T-Shirt", "Slim Jeans", "Rain Jacket", "Wool Sweater", "Running Shorts"},
			"sports":      {"Yoga Mat", "Dumbbell Set", "Cycling Helmet", "Tennis Racket", "Water Bottle"},
			"home":        {"Table Lamp", "Bath Towel Set", "Coffee Mug", "Cushion Cover", "Kitchen Knife"},
			"electronics": {"Wireless Earbuds", "27-inch Monitor", "USB-C Charger", "Smart Watch", "Bluetooth Speaker"},
		}),
		meaning(num("list_price", lognormal(29, 0.9, 1.99, 2500), false, 2), "catalogue price in "+rg.currency),
		num("avg_rating", normal(4.1, 0.5, 1, 5), false, 1),
	}, Correlations: []Correlation{{A: "category", B: "list_price", Rho: 0.45}},
		Rules: []rules.Rule{rUnique("product_id"), rIn(category), rRange("list_price", "0.01", "2500"), rRange("avg_rating", "1", "5")}}
	statusPairs := []any{"delivered", 88, "shipped", 6, "cancelled", 3}
	if o.has("returns") {
		statusPairs = append(statusPairs, "returned", 9)
	}
	status := cat("status", statusPairs...)
	payment := cat("payment_method", "card", 55, "paypal", 20, "bank_transfer", 10, "klarna", 10, "cash_on_delivery", 5)
	currency := cat("currency", rg.currency, 1)
	cols := []Column{
		id("order_id", "ORD-", 9),
		ref("customer_id", "customers", "customer_id", zipf(0.8)),
		ref("product_id", "products", "product_id", zipf(1.1)),
		date("order_date", timeLayout, "growth", "2024-01-01 00:00:00", "2025-12-31 23:59:59"),
		num("quantity", lognormal(1.4, 0.55, 1, 20), true, 0),
		meaning(num("unit_price", lognormal(29, 0.9, 1.99, 2500), false, 2), "price paid per unit in "+rg.currency),
		derived("subtotal", "mul", "quantity", "unit_price", 2),
		num("discount_pct", exponential(6, 0, 50), true, 0),
		currency,
		payment,
		cat("channel", "web", 60, "mobile_app", 35, "marketplace", 5),
		status,
	}
	rs := []rules.Rule{rUnique("order_id"), rRange("quantity", "1", "20"), rRange("discount_pct", "0", "50"),
		rCmp("subtotal", ">=", "unit_price"), rIn(status), rIn(payment), rIn(currency)}
	if o.has("returns") {
		reason := cat("return_reason", "wrong_size", 30, "changed_mind", 25, "not_as_described", 20, "damaged", 15, "late_delivery", 10)
		cols = append(cols,
			when(reason, "status", "returned"),
			when(num("return_lag_days", lognormal(9, 0.5, 1, 30), true, 0), "status", "returned"),
			when(Column{Name: "return_date", Kind: KindDerived, Expr: &Expr{Op: "add_days", Args: []string{"order_date", "return_lag_days"}}}, "status", "returned"),
			when(derived("refund_amount", "mul", "subtotal", "refund_share", 2), "status", "returned"),
		)
		// refund_share must precede refund_amount
		cols = slices.Insert(cols, len(cols)-1, when(num("refund_share", uniform(0.5, 1), false, 2), "status", "returned"))
		rs = append(rs, rCmp("return_date", ">=", "order_date"), rCmp("refund_amount", "<=", "subtotal"),
			rIn(reason), rRange("return_lag_days", "1", "30"))
	}
	if o.has("reviews") || o.has("returns") {
		cols = append(cols,
			when(num("review_rating", normal(4.2, 1.1, 1, 5), true, 0), "status", "delivered", "returned"),
			when(text("review_text", "{phrase}", "review_rating", map[string][]string{
				"1": {"Broke after two days, very disappointed.", "Nothing like the pictures. Returned it.", "Poor quality and slow delivery."},
				"2": {"Below expectations for the price.", "Works, but feels cheap.", "Arrived late and the box was damaged."},
				"3": {"Okay for the price, nothing special.", "Does the job, average quality.", "Decent, but the sizing runs small."},
				"4": {"Good value, would buy again.", "Nice quality, quick delivery.", "Happy with it, minor scratches."},
				"5": {"Excellent, exactly as described!", "Love it, fast shipping and great quality.", "Perfect, highly recommend."},
			}), "status", "delivered", "returned"))
		rs = append(rs, rRange("review_rating", "1", "5"))
	}
	orders := Table{Name: "orders", Rows: o.Rows, Columns: cols, Rules: rs,
		Correlations: []Correlation{{A: "quantity", B: "unit_price", Rho: -0.3}, {A: "unit_price", B: "discount_pct", Rho: 0.2}}}
	if o.has("returns") {
		orders.Correlations = append(orders.Correlations, Correlation{A: "status", B: "review_rating", Rho: -0.15})
	}
	return &Spec{Name: "retail orders", Main: "orders", Tables: []Table{customers, products, orders}}
}

func finance(o PackOptions) *Spec {
	rg := regionOf(o.Region)
	country := cat("country", rg.countries...)
	customers := Table{Name: "customers", Rows: max(1, o.Rows/50), Columns: []Column{
		id("customer_id", "C", 8),
		pii("full_name", "name", ""),
		pii("email", "email", ""),
		country,
		num("age", normal(45, 15, 18, 95), true, 0),
		num("annual_income", lognormal(42000, 0.6, 6000, 900000), true, 0),
		num("credit_score", normal(690, 70, 300, 850), true, 0),
	}, Correlations: []Correlation{{A: "age", B: "annual_income", Rho: 0.3}, {A: "annual_income", B: "credit_score", Rho: 0.35}},
		Rules: []rules.Rule{rUnique("customer_id"), rRange("credit_score", "300", "850"), rRange("age", "18", "95"), rIn(country)}}
	acctType := cat("account_type", "checking", 55, "savings", 30, "credit_card", 15)
	ibanPat := rg.iban
	if ibanPat == "" {
		ibanPat = "DE####################"
	}
	accounts := Table{Name: "accounts", Rows: max(1, o.Rows/25), Columns: []Column{
		id("account_id", "ACC", 9),
		ref("customer_id", "customers", "customer_id", nil),
		acctType,
		pii("iban", "iban", ibanPat),
		date("opened_date", dayLayout, "growth", "2010-01-01", "2025-06-30"),
		num("credit_limit", lognormal(5000, 0.7, 500, 50000), true, 0),
	}, Rules: []rules.Rule{rUnique("account_id"), rIn(acctType), rRange("credit_limit", "500", "50000")}}
	mcc := cat("merchant_category", "grocery", 24, "restaurants", 14, "fuel", 9, "online_retail", 18, "travel", 5, "utilities", 8,
		"entertainment", 7, "health", 5, "transfers", 10)
	cols := []Column{
		id("transaction_id", "TX", 12),
		ref("account_id", "accounts", "account_id", zipf(0.6)),
		date("booked_at", timeLayout, "growth", "2025-01-01 00:00:00", "2025-12-31 23:59:59"),
		mcc,
		meaning(num("amount", lognormal(32, 1.1, 0.5, 25000), false, 2), "transaction amount in "+rg.currency),
		cat("currency", rg.currency, 1),
		cat("channel", "card_present", 45, "online", 35, "contactless", 15, "atm", 5),
		cat("direction", "debit", 88, "credit", 12),
	}
	rs := []rules.Rule{rUnique("transaction_id"), rRange("amount", "0.01", "25000"), rIn(mcc)}
	corr := []Correlation{}
	if o.has("fraud") {
		cols = append(cols, boolean("is_fraud", 0.004))
		corr = append(corr, Correlation{A: "amount", B: "is_fraud", Rho: 0.35})
	}
	tx := Table{Name: "transactions", Rows: o.Rows, Columns: cols, Rules: rs, Correlations: corr}
	return &Spec{Name: "bank transactions", Main: "transactions", Tables: []Table{customers, accounts, tx}}
}

func healthcare(o PackOptions) *Spec {
	patients := Table{Name: "patients", Rows: max(1, o.Rows/3), Columns: []Column{
		id("patient_id", "P", 8),
		pii("full_name", "name", ""),
		cat("sex", "female", 51, "male", 49),
		num("age", normal(52, 21, 0, 100), true, 0),
		cat("insurance", "private", 48, "public", 42, "self_pay", 10),
		missing(pii("phone", "phone", regionOf(o.Region).phone), 0.1),
	}, Rules: []rules.Rule{rUnique("patient_id"), rRange("age", "0", "100")}}
	spec := cat("specialty", "general_medicine", 30, "cardiology", 12, "orthopedics", 10, "pediatrics", 10, "oncology", 8,
		"neurology", 7, "emergency", 23)
	providers := Table{Name: "providers", Rows: max(1, o.Rows/200), Columns: []Column{
		id("provider_id", "DR", 5), pii("provider_name", "name", ""), spec,
		num("years_experience", lognormal(12, 0.6, 1, 45), true, 0),
	}, Rules: []rules.Rule{rUnique("provider_id"), rIn(spec)}}
	dx := cat("diagnosis_code", "I10", 14, "E11.9", 11, "J18.9", 9, "I50.9", 8, "N39.0", 7, "J44.1", 7, "A41.9", 5, "K35.80", 4,
		"S72.001A", 3, "F32.9", 6, "M54.5", 10, "R07.9", 16)
	cols := []Column{
		id("encounter_id", "E", 10),
		ref("patient_id", "patients", "patient_id", zipf(0.7)),
		ref("provider_id", "providers", "provider_id", nil),
		date("admit_date", dayLayout, "uniform", "2023-01-01", "2025-12-31"),
		cat("admission_type", "emergency", 45, "elective", 35, "urgent", 20),
		dx,
		num("length_of_stay", lognormal(3.5, 0.7, 0, 60), true, 0),
		{Name: "discharge_date", Kind: KindDerived, Expr: &Expr{Op: "add_days", Args: []string{"admit_date", "length_of_stay"}}},
		meaning(num("total_charge", lognormal(9500, 0.9, 150, 750000), false, 2), "billed charges"),
		text("clinical_note", "{admission_type} admission, dx {diagnosis_code}. {phrase}", "admission_type", map[string][]string{
			"emergency": {"Presented via ED, stabilised and admitted.", "Arrived by ambulance; monitored overnight."},
			"elective":  {"Planned procedure completed without complications.", "Scheduled admission; routine post-op course."},
			"urgent":    {"Referred by GP for urgent assessment.", "Symptoms worsening over 48 hours; admitted for work-up."},
		}),
	}
	corr := []Correlation{{A: "length_of_stay", B: "total_charge", Rho: 0.7}}
	if o.has("readmissions") {
		cols = append(cols, boolean("readmitted_30d", 0.14))
		corr = append(corr, Correlation{A: "length_of_stay", B: "readmitted_30d", Rho: 0.2})
	}
	enc := Table{Name: "encounters", Rows: o.Rows, Columns: cols, Correlations: corr,
		Rules: []rules.Rule{rUnique("encounter_id"), rCmp("discharge_date", ">=", "admit_date"), rRange("length_of_stay", "0", "60"), rIn(dx)}}
	return &Spec{Name: "hospital encounters", Main: "encounters", Tables: []Table{patients, providers, enc}}
}

func saas(o PackOptions) *Spec {
	rg := regionOf(o.Region)
	industry := cat("industry", "software", 25, "retail", 12, "finance", 11, "healthcare", 9, "manufacturing", 10, "education", 8,
		"media", 7, "professional_services", 18)
	accounts := Table{Name: "accounts", Rows: max(1, o.Rows/3), Columns: []Column{
		id("account_id", "ACME-", 6), industry, cat("country", rg.countries...),
		num("employees", lognormal(45, 1.4, 1, 100000), true, 0),
		date("signup_date", dayLayout, "growth", "2020-01-01", "2025-11-30"),
		pii("admin_email", "email", ""),
	}, Rules: []rules.Rule{rUnique("account_id"), rIn(industry), rRange("employees", "1", "100000")}}
	plan := cat("plan", "free", 40, "starter", 30, "pro", 22, "enterprise", 8)
	subCols := []Column{
		id("subscription_id", "SUB-", 7),
		ref("account_id", "accounts", "account_id", nil),
		plan,
		num("seats", lognormal(6, 1.1, 1, 5000), true, 0),
		num("price_per_seat", uniform(0, 60), false, 2),
		derived("mrr", "mul", "seats", "price_per_seat", 2),
		date("started_at", dayLayout, "growth", "2021-01-01", "2025-11-30"),
	}
	rs := []rules.Rule{rUnique("subscription_id"), rIn(plan), rRange("seats", "1", "5000"), rCmp("mrr", ">=", "price_per_seat")}
	corr := []Correlation{{A: "plan", B: "price_per_seat", Rho: 0.9}, {A: "plan", B: "seats", Rho: 0.5}}
	if o.has("churn") {
		subCols = append(subCols, boolean("churned", 0.18),
			when(cat("churn_reason", "price", 30, "missing_features", 25, "switched_competitor", 20, "business_closed", 10, "poor_support", 15), "churned", "true"))
		corr = append(corr, Correlation{A: "plan", B: "churned", Rho: -0.3})
	}
	subs := Table{Name: "subscriptions", Rows: o.Rows, Columns: subCols, Rules: rs, Correlations: corr}
	tcat := cat("category", "billing", 25, "bug", 30, "how_to", 30, "feature_request", 15)
	tickets := Table{Name: "tickets", Rows: max(1, o.Rows*2), Columns: []Column{
		id("ticket_id", "T-", 8),
		ref("account_id", "accounts", "account_id", zipf(0.9)),
		date("created_at", timeLayout, "growth", "2025-01-01 00:00:00", "2025-11-30 23:59:59"),
		tcat,
		cat("priority", "low", 40, "normal", 40, "high", 15, "urgent", 5),
		num("resolution_hours", lognormal(8, 1.2, 0.1, 720), false, 1),
		num("csat", normal(4, 1.1, 1, 5), true, 0),
		text("body", "{phrase}", "category", map[string][]string{
			"billing":         {"I was charged twice this month, please refund.", "Can you send an invoice with our VAT number?"},
			"bug":             {"The export button does nothing on large projects.", "Dashboard fails to load since the last update."},
			"how_to":          {"How do I add a teammate to my workspace?", "Where can I change the notification settings?"},
			"feature_request": {"Please add SSO with Okta.", "We would love a dark mode."},
		}),
	}, Correlations: []Correlation{{A: "resolution_hours", B: "csat", Rho: -0.4}},
		Rules: []rules.Rule{rUnique("ticket_id"), rRange("csat", "1", "5"), rIn(tcat)}}
	return &Spec{Name: "saas subscriptions", Main: "subscriptions", Tables: []Table{accounts, subs, tickets}}
}

func hr(o PackOptions) *Spec {
	dname := cat("name", "engineering", 30, "sales", 20, "operations", 15, "marketing", 10, "finance", 8, "hr", 5, "support", 12)
	depts := Table{Name: "departments", Rows: 12, Columns: []Column{id("department_id", "D", 3), dname,
		num("budget", lognormal(2e6, 0.8, 1e5, 5e7), true, 0)}, Rules: []rules.Rule{rUnique("department_id")}}
	level := cat("job_level", "L1", 25, "L2", 30, "L3", 25, "L4", 13, "L5", 5, "L6", 2)
	cols := []Column{
		id("employee_id", "EMP", 6),
		pii("full_name", "name", ""),
		pii("work_email", "email", ""),
		ref("department_id", "departments", "department_id", zipf(0.5)),
		level,
		date("hire_date", dayLayout, "growth", "2008-01-01", "2025-10-31"),
		num("age", normal(38, 10, 18, 70), true, 0),
		meaning(num("salary", lognormal(62000, 0.35, 25000, 450000), true, 0), "annual base salary in "+regionOf(o.Region).currency),
		cat("gender", "female", 47, "male", 51, "non_binary", 2),
		boolean("remote", 0.35),
		num("performance_rating", normal(3.2, 0.8, 1, 5), true, 0),
	}
	corr := []Correlation{{A: "job_level", B: "salary", Rho: 0.75}, {A: "job_level", B: "age", Rho: 0.45}}
	if o.has("attrition") {
		cols = append(cols, boolean("left_company", 0.13))
		corr = append(corr, Correlation{A: "performance_rating", B: "left_company", Rho: -0.25})
	}
	emps := Table{Name: "employees", Rows: o.Rows, Columns: cols, Correlations: corr,
		Rules: []rules.Rule{rUnique("employee_id"), rRange("age", "18", "70"), rIn(level), rRange("performance_rating", "1", "5")}}
	ltype := cat("leave_type", "vacation", 60, "sick", 25, "parental", 5, "unpaid", 10)
	leave := Table{Name: "leave_requests", Rows: max(1, o.Rows*3), Columns: []Column{
		id("request_id", "LR", 8),
		ref("employee_id", "employees", "employee_id", nil),
		ltype,
		date("start_date", dayLayout, "uniform", "2025-01-01", "2025-12-31"),
		num("days", lognormal(3, 0.8, 1, 120), true, 0),
		{Name: "end_date", Kind: KindDerived, Expr: &Expr{Op: "add_days", Args: []string{"start_date", "days"}}},
		cat("status", "approved", 85, "pending", 8, "rejected", 7),
	}, Rules: []rules.Rule{rUnique("request_id"), rCmp("end_date", ">", "start_date"), rIn(ltype)}}
	return &Spec{Name: "workforce", Main: "employees", Tables: []Table{depts, emps, leave}}
}
