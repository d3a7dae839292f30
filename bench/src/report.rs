//! Results: a table for people, JSON for tools.

use serde_json::{json, Map, Value};

pub struct Row {
    pub id: String,
    pub what: String,
    pub value: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub target: String,
    pub pass: Option<bool>,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub data: Map<String, Value>,
}

pub fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v < 1.0 {
        format!("{:.0} µs", v * 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

pub fn per_s(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}k/s", v / 1000.0)
    } else {
        format!("{v:.0}/s")
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

impl Report {
    pub fn set(&mut self, key: &str, value: Value) {
        self.data.insert(key.to_string(), value);
    }

    /// A figure with no target: reported for the record.
    pub fn info(&mut self, id: &str, what: &str, value: String, baseline: String) {
        self.rows.push(Row {
            id: id.into(),
            what: what.into(),
            value,
            baseline,
            ratio: None,
            target: String::new(),
            pass: None,
        });
    }

    /// A figure with a target; `ratio` is value over baseline, `pass` whether the target holds.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &mut self,
        id: &str,
        what: &str,
        value: String,
        baseline: String,
        ratio: f64,
        target: &str,
        pass: bool,
    ) {
        self.rows.push(Row {
            id: id.into(),
            what: what.into(),
            value,
            baseline,
            ratio: ratio.is_finite().then_some(ratio),
            target: target.into(),
            pass: Some(pass),
        });
    }

    pub fn failures(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.pass == Some(false)).collect()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str("| id | figure | value | baseline (same run) | ratio | target | |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                r.id,
                r.what,
                r.value,
                r.baseline,
                r.ratio.map(|v| format!("{v:.2}")).unwrap_or_default(),
                r.target,
                match r.pass {
                    Some(true) => "ok",
                    Some(false) => "MISS",
                    None => "",
                }
            ));
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({"id": r.id, "figure": r.what, "value": r.value, "baseline": r.baseline,
                       "ratio": r.ratio, "target": r.target, "pass": r.pass})
            })
            .collect();
        json!({"rows": rows, "raw": Value::Object(self.data.clone())})
    }
}
