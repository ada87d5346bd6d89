//! Typed, field-by-field reading of loosely shaped JSON (query models and
//! `jsonData`), so that every error names the field that is wrong.

use std::fmt;

use serde_json::{Map, Value};

/// An input error that names the offending field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The range a numeric field accepts. One constant per field is both what
/// its reader checks and what the editors are told (`tests/contract.rs`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub key: &'static str,
    pub min: f64,
    pub max: f64,
    /// Whole numbers only.
    pub whole: bool,
    /// What the number counts (`"second"`, `"minute"`, `"day"`), so that
    /// messages say the range in words; `None` for a plain count.
    pub unit: Option<&'static str>,
}

/// The units a bound may be said in, largest first, with their seconds.
const IN_WORDS: [(&str, f64); 4] = [
    ("day", 86_400.0),
    ("hour", 3_600.0),
    ("minute", 60.0),
    ("second", 1.0),
];

impl Bounds {
    /// The range in words, as the editors say it (`validation.ts`; both run
    /// `inputCases.json`): e.g. "1 minute" and "365 days" rather than
    /// 0.000694 and 365. A bound that is not a whole number of the field's
    /// unit is said in the largest unit it is a whole number of; the lower
    /// bound names its unit only when that differs from the upper's.
    pub fn range_in_words(&self) -> (String, String) {
        let Some(unit) = self.unit else {
            return (self.min.to_string(), self.max.to_string());
        };
        let (min, min_unit) = whole_of(self.min, unit);
        let (max, max_unit) = whole_of(self.max, unit);
        let lower = match min_unit == max_unit {
            true => min.to_string(),
            false => counted(min, min_unit),
        };
        (lower, counted(max, max_unit))
    }
}

/// `n` of `unit` as a whole number of the largest unit that allows (as it
/// is when none does, which no bound we set needs).
fn whole_of(n: f64, unit: &'static str) -> (f64, &'static str) {
    if n.fract() == 0.0 {
        return (n, unit);
    }
    let per = IN_WORDS
        .iter()
        .find(|(u, _)| *u == unit)
        .map_or(1.0, |(_, s)| *s);
    let seconds = n * per;
    IN_WORDS
        .iter()
        .map(|(u, s)| (seconds / s, *u))
        .find(|(c, _)| (c - c.round()).abs() < 1e-9)
        .map_or((n, unit), |(c, u)| (c.round(), u))
}

/// "1 minute", "365 days".
fn counted(n: f64, unit: &str) -> String {
    let plural = if n == 1.0 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

/// A JSON object read field by field; `null` and missing fields are absent.
pub struct JsonObject<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> JsonObject<'a> {
    /// `what` names the whole document in the error (e.g. `query`).
    pub fn new(value: &'a Value, what: &str) -> Result<JsonObject<'a>, FieldError> {
        match value {
            Value::Object(map) => Ok(JsonObject { map: Some(map) }),
            Value::Null => Ok(JsonObject { map: None }),
            other => Err(FieldError::new(
                what,
                format!("must be a JSON object, got {}", kind(other)),
            )),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map?.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(FieldError::new(
                key,
                format!("must be a string, got {}", kind(other)),
            )),
        }
    }

    /// A list of strings; a lone string counts as a one-element list.
    /// Blank entries are dropped and duplicates removed, order kept.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, FieldError> {
        let items: Vec<&Value> = match self.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v @ Value::String(_)) => vec![v],
            Some(other) => {
                return Err(FieldError::new(
                    key,
                    format!("must be a list of strings, got {}", kind(other)),
                ))
            }
        };
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Value::String(s) = item else {
                return Err(FieldError::new(
                    key,
                    format!("item {i} must be a string, got {}", kind(item)),
                ));
            };
            let s = s.trim();
            if !s.is_empty() && !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    /// A list of repository names (`owner/name`), each checked so that none
    /// can leave its request path; the first bad one fails the field.
    pub(crate) fn repo_names(&self, key: &str) -> Result<Vec<String>, FieldError> {
        let names = self.strings(key)?;
        for n in &names {
            crate::domain::check_repo_name(n).map_err(|e| FieldError::new(key, e.to_string()))?;
        }
        Ok(names)
    }

    /// A finite number; numeric strings are accepted because Grafana's
    /// template interpolation produces strings.
    fn opt_number(&self, key: &str) -> Result<Option<f64>, FieldError> {
        let n = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(other) => {
                return Err(FieldError::new(
                    key,
                    format!("must be a number, got {}", kind(other)),
                ))
            }
        };
        match n {
            Some(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(FieldError::new(key, "must be a finite number")),
        }
    }

    /// A number within `bounds` (whole where they say so).
    pub(crate) fn bounded(&self, bounds: &Bounds) -> Result<Option<f64>, FieldError> {
        let key = bounds.key;
        match self.opt_number(key)? {
            Some(n) if !(bounds.min..=bounds.max).contains(&n) => {
                let (min, max) = bounds.range_in_words();
                Err(FieldError::new(
                    key,
                    format!("must be between {min} and {max}, got {n}"),
                ))
            }
            Some(n) if bounds.whole && n.fract() != 0.0 => Err(FieldError::new(
                key,
                format!("must be a whole number, got {n}"),
            )),
            n => Ok(n),
        }
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(FieldError::new(
                key,
                format!("must be true or false, got {}", kind(other)),
            )),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_accept_a_lone_string_and_drop_blanks_and_duplicates() {
        let v = json!({"repos": ["a/b", " ", "a/b", "c/d"], "one": "x/y"});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(o.strings("repos").unwrap(), ["a/b", "c/d"]);
        assert_eq!(o.strings("one").unwrap(), ["x/y"]);
        assert!(o.strings("missing").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        let v = json!({"repos": [1], "windowDays": -1, "minSample": 2.5, "demo": "yes"});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(
            o.strings("repos").unwrap_err().to_string(),
            "`repos` item 0 must be a string, got a number"
        );
        use crate::input::options::{MIN_SAMPLE, WINDOW_DAYS};
        assert_eq!(
            o.bounded(&WINDOW_DAYS).unwrap_err().to_string(),
            "`windowDays` must be between 1 minute and 365 days, got -1"
        );
        assert_eq!(
            o.bounded(&MIN_SAMPLE).unwrap_err().to_string(),
            "`minSample` must be a whole number, got 2.5"
        );
        assert_eq!(o.opt_bool("demo").unwrap_err().field, "demo");
        let not_object = json!([1]);
        assert_eq!(
            JsonObject::new(&not_object, "query")
                .err()
                .unwrap()
                .to_string(),
            "`query` must be a JSON object, got a list"
        );
    }

    #[test]
    fn numeric_strings_from_template_variables_are_numbers() {
        let v = json!({"windowDays": "14", "flakyMinutes": ""});
        let o = JsonObject::new(&v, "query").unwrap();
        assert_eq!(o.opt_number("windowDays").unwrap(), Some(14.0));
        assert_eq!(o.opt_number("flakyMinutes").unwrap(), None);
    }
}
