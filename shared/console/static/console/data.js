// Checks the console runs in the browser before it calls the API: missing
// values of a CSV the user picked (the API's profile has kinds and PII, not
// missing counts) and rule column names against the dataset's columns.

// The tokens the profiler reads as missing, besides the empty cell.
const MISSING = new Set(["", "na", "n/a", "nan", "null", "none", "?", "-"]);

// parseCSVLine-free reader: one pass over text honouring quotes, calling
// row(fields) per record.
function eachRecord(text, sep, row) {
  let field = "";
  let fields = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === sep) {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      row(fields);
      fields = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || fields.length > 0) {
    fields.push(field);
    row(fields);
  }
}

// missingValues counts, per column, the cells of a CSV or TSV text that
// are empty or a missing-value token. It returns {rows, columns: [{name,
// missing}]}, or null for a text without a header.
export function missingValues(text, sep = ",") {
  let header = null;
  let counts = [];
  let rows = 0;
  eachRecord(text, sep, (fields) => {
    if (!header) {
      header = fields.map((f) => f.trim());
      counts = header.map(() => 0);
      return;
    }
    if (fields.length === 1 && fields[0] === "") return; // blank line
    rows++;
    for (let j = 0; j < header.length; j++) {
      const v = j < fields.length ? fields[j].trim().toLowerCase() : "";
      if (MISSING.has(v)) counts[j]++;
    }
  });
  if (!header) return null;
  return { rows, columns: header.map((name, j) => ({ name, missing: counts[j] })) };
}

// ruleColumns lists the column names one rule refers to.
function ruleColumns(r) {
  const out = [];
  for (const k of ["left", "right", "column"]) if (typeof r[k] === "string" && r[k] !== "") out.push(r[k]);
  if (Array.isArray(r.columns)) for (const c of r.columns) if (typeof c === "string") out.push(c);
  return out;
}

// checkRules parses the rules document ({"rules": [...]}, as the CLI's
// --rules file) and returns {rules, errors}: rules is the parsed object to
// send (null when empty), errors one message per problem, naming the rule.
// A compare rule's right side is a column unless the rule has a value.
export function checkRules(text, columns) {
  const src = text.trim();
  if (src === "") return { rules: null, errors: [] };
  let doc;
  try {
    doc = JSON.parse(src);
  } catch (e) {
    return { rules: null, errors: ["rules are not valid JSON: " + e.message] };
  }
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.rules)) {
    return { rules: null, errors: ['rules must be an object with a "rules" array, e.g. {"rules": [{"type": "range", "column": "age", "min": 18}]}'] };
  }
  const known = new Set(columns);
  const errors = [];
  doc.rules.forEach((r, i) => {
    const label = `rule ${i + 1}${r && r.name ? " (" + r.name + ")" : ""}`;
    if (!r || typeof r !== "object" || typeof r.type !== "string") {
      errors.push(`${label}: needs a "type"`);
      return;
    }
    for (const c of ruleColumns(r)) {
      if (!known.has(c)) errors.push(`${label}: no column "${c}" in the dataset`);
    }
  });
  return { rules: doc, errors };
}

// checkConditions validates fixed column values: [{column, value}] pairs
// with known, distinct columns; it returns {conditions, errors}.
export function checkConditions(pairs, columns) {
  const known = new Set(columns);
  const conditions = {};
  const errors = [];
  for (const { column, value } of pairs) {
    if (!column && value === "") continue;
    if (!known.has(column)) errors.push(`condition: no column "${column}" in the dataset`);
    else if (column in conditions) errors.push(`condition: "${column}" is fixed twice`);
    else {
      const n = Number(value);
      conditions[column] = value.trim() !== "" && Number.isFinite(n) ? n : value;
    }
  }
  return { conditions: Object.keys(conditions).length ? conditions : null, errors };
}
