//! The dataset: every record the system holds, parsed from the human-editable TOML files in `data/`.
//!
//! Each file holds one kind of fact under one or two top-level keys (`treaty-actions.toml` holds `action`
//! records, `activities.toml` holds `plan` and `activity` records...). Parsing reports every problem it
//! finds, each naming the file, the record and the field.

use std::{collections::HashSet, fmt};

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    Activity, BudgetLine, ContactPoint, Contribution, CooperationRecord, CountryProfile, Declaration, DeclarationKind,
    FundingSource, LegislativeAssistance, ModelError, Objective, Organisation, Output, Plan, Priority, ReportedFigure,
    SourceDocument, SourceRef, State, Study, Treaty, TreatyAction,
};

/// The files of a dataset, in load order, with the top-level keys each holds.
pub const FILES: [(&str, &[&str]); 15] = [
    ("sources.toml", &["source"]),
    ("treaties.toml", &["treaty"]),
    ("states.toml", &["state"]),
    ("treaty-actions.toml", &["action"]),
    ("organisations.toml", &["organisation"]),
    ("funding.toml", &["funding_source", "budget", "contribution"]),
    ("activities.toml", &["plan", "activity"]),
    ("cooperation.toml", &["cooperation"]),
    ("legislative-assistance.toml", &["assistance"]),
    ("profiles.toml", &["profile"]),
    ("contact-points.toml", &["contact_point"]),
    ("studies.toml", &["study"]),
    ("programme.toml", &["objective", "output", "priority"]),
    ("reported-figures.toml", &["figure"]),
    ("declarations.toml", &["declaration"]),
];

/// The files a dataset may lack, read as empty: those added after the first exports were written (an export
/// made before `declarations.toml` existed still imports).
pub const OPTIONAL_FILES: [&str; 1] = ["declarations.toml"];

macro_rules! bundled_files {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../../data/", $name)))),*]
    };
}

/// The bundled dataset's files: the data of the progress report of 30 November 2007, compiled in.
const BUNDLED: [(&str, &str); 15] = bundled_files!(
    "sources.toml",
    "treaties.toml",
    "states.toml",
    "treaty-actions.toml",
    "organisations.toml",
    "funding.toml",
    "activities.toml",
    "cooperation.toml",
    "legislative-assistance.toml",
    "profiles.toml",
    "contact-points.toml",
    "studies.toml",
    "programme.toml",
    "reported-figures.toml",
    "declarations.toml",
);

/// Everything the system of record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The documents facts are taken from.
    pub sources: Vec<SourceDocument>,
    /// Treaties.
    pub treaties: Vec<Treaty>,
    /// States.
    pub states: Vec<State>,
    /// Treaty actions.
    pub treaty_actions: Vec<TreatyAction>,
    /// Organisations.
    pub organisations: Vec<Organisation>,
    /// Funding sources activities name.
    pub funding_sources: Vec<FundingSource>,
    /// Budget lines.
    pub budget: Vec<BudgetLine>,
    /// Contributions by donors.
    pub contributions: Vec<Contribution>,
    /// Plans of proposed activities.
    pub plans: Vec<Plan>,
    /// Activities, done and planned.
    pub activities: Vec<Activity>,
    /// Cooperation with organisations.
    pub cooperation: Vec<CooperationRecord>,
    /// Legislative assistance.
    pub legislative_assistance: Vec<LegislativeAssistance>,
    /// Country profiles.
    pub profiles: Vec<CountryProfile>,
    /// 24/7 contact points.
    pub contact_points: Vec<ContactPoint>,
    /// Studies.
    pub studies: Vec<Study>,
    /// The objective.
    pub objective: Objective,
    /// The outputs with their indicators.
    pub outputs: Vec<Output>,
    /// The priorities set for a year (e.g. §4.1 of the 2007 report, "Priorities in 2008").
    pub priorities: Vec<Priority>,
    /// Figures as reported.
    pub reported_figures: Vec<ReportedFigure>,
    /// Reservations, declarations and designations of authorities, and their withdrawals.
    pub declarations: Vec<Declaration>,
}

/// One problem found in a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetError {
    /// The file, e.g. `treaty-actions.toml`.
    pub file: String,
    /// The record, e.g. `action #12 (AL ratification of 185)`; `None` for the file as a whole.
    pub record: Option<String>,
    /// The field, e.g. `date`; `None` for the record as a whole.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(r) = &self.record {
            write!(f, ": {r}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a dataset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DatasetErrors(pub Vec<DatasetError>);

impl fmt::Display for DatasetErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the dataset", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Parses the files of a dataset one record at a time, collecting every error.
struct Reader<'a> {
    files: &'a [(&'a str, &'a str)],
    errors: Vec<DatasetError>,
}

impl Reader<'_> {
    fn table(&mut self, file: &str) -> Option<toml::Table> {
        let Some((_, text)) = self.files.iter().find(|(name, _)| *name == file) else {
            if OPTIONAL_FILES.contains(&file) {
                return None;
            }
            self.errors.push(DatasetError {
                file: file.to_owned(),
                record: None,
                field: None,
                message: "the file is missing".to_owned(),
            });
            return None;
        };
        match text.parse::<toml::Table>() {
            Ok(table) => {
                let keys = FILES.iter().find(|(name, _)| *name == file).map(|(_, k)| *k).unwrap_or_default();
                for key in table.keys().filter(|k| !keys.contains(&k.as_str())) {
                    self.errors.push(DatasetError {
                        file: file.to_owned(),
                        record: None,
                        field: Some(key.clone()),
                        message: format!("unknown key; this file holds {}", keys.join(" and ")),
                    });
                }
                Some(table)
            }
            Err(e) => {
                self.errors.push(DatasetError {
                    file: file.to_owned(),
                    record: None,
                    field: None,
                    message: format!("not valid TOML: {}", e.to_string().trim()),
                });
                None
            }
        }
    }

    fn one<T: DeserializeOwned>(&mut self, file: &str, table: &toml::Table, key: &str, label: &str) -> Option<T> {
        let Some(value) = table.get(key) else {
            self.errors.push(DatasetError {
                file: file.to_owned(),
                record: None,
                field: Some(key.to_owned()),
                message: "missing".to_owned(),
            });
            return None;
        };
        self.record(file, label.to_owned(), value.clone())
    }

    fn many<T: DeserializeOwned>(&mut self, file: &str, table: Option<&toml::Table>, key: &str) -> Vec<T> {
        let Some(table) = table else { return Vec::new() };
        let Some(value) = table.get(key) else { return Vec::new() };
        let Some(items) = value.as_array() else {
            self.errors.push(DatasetError {
                file: file.to_owned(),
                record: None,
                field: Some(key.to_owned()),
                message: "must be an array of records".to_owned(),
            });
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.record(file, record_label(key, i, item), item.clone()))
            .collect()
    }

    fn record<T: DeserializeOwned>(&mut self, file: &str, label: String, value: toml::Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(record) => Some(record),
            Err(e) => {
                let path = e.path().to_string();
                let field = (path != ".").then_some(path);
                let message = e.into_inner().message().trim().to_owned();
                self.errors.push(DatasetError { file: file.to_owned(), record: Some(label), field, message });
                None
            }
        }
    }
}

/// `action #3 (AL ratification of 185)`, `activity #12 (2007-03-19-belgrade)`.
fn record_label(key: &str, index: usize, value: &toml::Value) -> String {
    let get = |k: &str| value.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    let what = match (get("id"), get("code"), get("number"), get("state"), get("country")) {
        (Some(id), ..) => Some(id),
        (_, Some(code), ..) => Some(code),
        (_, _, Some(number), ..) => Some(number),
        (_, _, _, Some(state), _) => {
            Some(format!("{state} {} of {}", get("kind").unwrap_or_default(), get("treaty").unwrap_or_default()))
        }
        (.., Some(country)) => Some(country),
        _ => None,
    };
    match what {
        Some(w) => format!("{key} #{} ({w})", index + 1),
        None => format!("{key} #{}", index + 1),
    }
}

impl Dataset {
    /// A dataset with no records (and an empty objective).
    pub fn empty() -> Dataset {
        Dataset {
            sources: Vec::new(),
            treaties: Vec::new(),
            states: Vec::new(),
            treaty_actions: Vec::new(),
            organisations: Vec::new(),
            funding_sources: Vec::new(),
            budget: Vec::new(),
            contributions: Vec::new(),
            plans: Vec::new(),
            activities: Vec::new(),
            cooperation: Vec::new(),
            legislative_assistance: Vec::new(),
            profiles: Vec::new(),
            contact_points: Vec::new(),
            studies: Vec::new(),
            objective: Objective {
                text: String::new(),
                started: crate::ApproxDate::Year(0),
                ends: crate::ApproxDate::Year(0),
                source: SourceRef(Vec::new()),
            },
            outputs: Vec::new(),
            priorities: Vec::new(),
            reported_figures: Vec::new(),
            declarations: Vec::new(),
        }
    }

    /// The bundled dataset: the data of the progress report of 30 November 2007 and its sources.
    ///
    /// # Panics
    /// Never in a released build: the bundled files are validated by this crate's tests.
    pub fn bundled() -> Dataset {
        match Dataset::parse(&BUNDLED) {
            Ok(dataset) => dataset,
            Err(errors) => panic!("the bundled dataset is invalid: {errors}"),
        }
    }

    /// The bundled dataset's files, as `(file name, text)`.
    pub fn bundled_files() -> &'static [(&'static str, &'static str)] {
        &BUNDLED
    }

    /// Parses and validates a dataset from its files, given as `(file name, text)`.
    ///
    /// Every error found is returned, each naming its file, record and field: syntax, types, unknown fields,
    /// references to records that do not exist, and the domain rules ([`Dataset::validate`]).
    pub fn parse(files: &[(&str, &str)]) -> Result<Dataset, DatasetErrors> {
        let mut r = Reader { files, errors: Vec::new() };
        let t: Vec<Option<toml::Table>> = FILES.iter().map(|(name, _)| r.table(name)).collect();
        let programme = t[12].clone().unwrap_or_default();
        let objective =
            if t[12].is_some() { r.one("programme.toml", &programme, "objective", "objective") } else { None };
        let dataset = Dataset {
            sources: r.many("sources.toml", t[0].as_ref(), "source"),
            treaties: r.many("treaties.toml", t[1].as_ref(), "treaty"),
            states: r.many("states.toml", t[2].as_ref(), "state"),
            treaty_actions: r.many("treaty-actions.toml", t[3].as_ref(), "action"),
            organisations: r.many("organisations.toml", t[4].as_ref(), "organisation"),
            funding_sources: r.many("funding.toml", t[5].as_ref(), "funding_source"),
            budget: r.many("funding.toml", t[5].as_ref(), "budget"),
            contributions: r.many("funding.toml", t[5].as_ref(), "contribution"),
            plans: r.many("activities.toml", t[6].as_ref(), "plan"),
            activities: r.many("activities.toml", t[6].as_ref(), "activity"),
            cooperation: r.many("cooperation.toml", t[7].as_ref(), "cooperation"),
            legislative_assistance: r.many("legislative-assistance.toml", t[8].as_ref(), "assistance"),
            profiles: r.many("profiles.toml", t[9].as_ref(), "profile"),
            contact_points: r.many("contact-points.toml", t[10].as_ref(), "contact_point"),
            studies: r.many("studies.toml", t[11].as_ref(), "study"),
            objective: objective.unwrap_or_else(|| Dataset::empty().objective),
            outputs: r.many("programme.toml", t[12].as_ref(), "output"),
            priorities: r.many("programme.toml", t[12].as_ref(), "priority"),
            reported_figures: r.many("reported-figures.toml", t[13].as_ref(), "figure"),
            declarations: r.many("declarations.toml", t[14].as_ref(), "declaration"),
        };
        let mut errors = r.errors;
        if errors.is_empty() {
            errors.extend(dataset.validate());
        }
        if errors.is_empty() { Ok(dataset) } else { Err(DatasetErrors(errors)) }
    }

    /// Writes the dataset back to its files, in the same format [`Dataset::parse`] reads: parsing the result
    /// gives an equal dataset.
    pub fn to_files(&self) -> Vec<(String, String)> {
        fn file<T: Serialize>(pairs: &[(&str, &[T])]) -> String {
            let mut table = toml::Table::new();
            for (key, items) in pairs {
                if let Ok(toml::Value::Array(a)) = toml::Value::try_from(items) {
                    table.insert((*key).to_owned(), toml::Value::Array(a));
                }
            }
            toml::to_string_pretty(&table).unwrap_or_default()
        }
        let mut programme = toml::Table::new();
        if let Ok(v) = toml::Value::try_from(&self.objective) {
            programme.insert("objective".to_owned(), v);
        }
        let programme = toml::to_string_pretty(&programme).unwrap_or_default()
            + "\n"
            + &file(&[("output", self.outputs.as_slice())])
            + "\n"
            + &file(&[("priority", self.priorities.as_slice())]);
        vec![
            ("sources.toml".to_owned(), file(&[("source", self.sources.as_slice())])),
            ("treaties.toml".to_owned(), file(&[("treaty", self.treaties.as_slice())])),
            ("states.toml".to_owned(), file(&[("state", self.states.as_slice())])),
            ("treaty-actions.toml".to_owned(), file(&[("action", self.treaty_actions.as_slice())])),
            ("organisations.toml".to_owned(), file(&[("organisation", self.organisations.as_slice())])),
            (
                "funding.toml".to_owned(),
                file(&[("funding_source", self.funding_sources.as_slice())])
                    + "\n"
                    + &file(&[("budget", self.budget.as_slice())])
                    + "\n"
                    + &file(&[("contribution", self.contributions.as_slice())]),
            ),
            (
                "activities.toml".to_owned(),
                file(&[("plan", self.plans.as_slice())]) + "\n" + &file(&[("activity", self.activities.as_slice())]),
            ),
            ("cooperation.toml".to_owned(), file(&[("cooperation", self.cooperation.as_slice())])),
            ("legislative-assistance.toml".to_owned(), file(&[("assistance", self.legislative_assistance.as_slice())])),
            ("profiles.toml".to_owned(), file(&[("profile", self.profiles.as_slice())])),
            ("contact-points.toml".to_owned(), file(&[("contact_point", self.contact_points.as_slice())])),
            ("studies.toml".to_owned(), file(&[("study", self.studies.as_slice())])),
            ("programme.toml".to_owned(), programme),
            ("reported-figures.toml".to_owned(), file(&[("figure", self.reported_figures.as_slice())])),
            ("declarations.toml".to_owned(), file(&[("declaration", self.declarations.as_slice())])),
        ]
    }

    /// Checks every reference and every domain rule; returns every problem found, each naming its record.
    pub fn validate(&self) -> Vec<DatasetError> {
        let mut v = Validator { errors: Vec::new() };
        self.check_ids(&mut v);
        self.check_references(&mut v);
        crate::rules::check_dataset(self, &mut v);
        v.errors
    }

    fn check_ids(&self, v: &mut Validator) {
        fn unique(v: &mut Validator, file: &str, key: &str, kind: &'static str, ids: impl Iterator<Item = String>) {
            let mut seen = HashSet::new();
            for (i, id) in ids.enumerate() {
                if !seen.insert(id.clone()) {
                    v.push(file, format!("{key} #{} ({id})", i + 1), "id", ModelError::DuplicateId { kind, id });
                }
            }
        }
        unique(v, "sources.toml", "source", "source", self.sources.iter().map(|s| s.id.clone()));
        for s in &self.sources {
            if let Err(e) = crate::limits::check_source_id("id", &s.id) {
                v.push("sources.toml", format!("source {}", s.id), "id", e);
            }
        }
        unique(v, "treaties.toml", "treaty", "treaty", self.treaties.iter().map(|t| t.number.to_string()));
        unique(v, "states.toml", "state", "state", self.states.iter().map(|s| s.code.to_string()));
        unique(
            v,
            "organisations.toml",
            "organisation",
            "organisation",
            self.organisations.iter().map(|o| o.id.clone()),
        );
        unique(
            v,
            "funding.toml",
            "funding_source",
            "funding source",
            self.funding_sources.iter().map(|o| o.id.clone()),
        );
        unique(v, "activities.toml", "plan", "plan", self.plans.iter().map(|o| o.id.clone()));
        unique(v, "activities.toml", "activity", "activity", self.activities.iter().map(|o| o.id.clone()));
        unique(
            v,
            "cooperation.toml",
            "cooperation",
            "cooperation record",
            self.cooperation.iter().map(|o| o.id.clone()),
        );
        unique(
            v,
            "legislative-assistance.toml",
            "assistance",
            "assistance record",
            self.legislative_assistance.iter().map(|o| o.id.clone()),
        );
        unique(v, "profiles.toml", "profile", "profile", self.profiles.iter().map(|o| o.country.to_string()));
        unique(v, "studies.toml", "study", "study", self.studies.iter().map(|o| o.id.clone()));
        unique(v, "programme.toml", "priority", "priority", self.priorities.iter().map(|o| o.id.clone()));
        unique(
            v,
            "reported-figures.toml",
            "figure",
            "reported figure",
            self.reported_figures.iter().map(|o| o.id.clone()),
        );
        unique(v, "declarations.toml", "declaration", "declaration", self.declarations.iter().map(|o| o.id.clone()));
    }

    fn check_references(&self, v: &mut Validator) {
        let sources: HashSet<&str> = self.sources.iter().map(|s| s.id.as_str()).collect();
        let states: HashSet<&str> = self.states.iter().map(|s| s.code.as_str()).collect();
        let orgs: HashSet<&str> = self.organisations.iter().map(|s| s.id.as_str()).collect();
        let funding: HashSet<&str> = self.funding_sources.iter().map(|s| s.id.as_str()).collect();
        let plans: HashSet<&str> = self.plans.iter().map(|s| s.id.as_str()).collect();
        let activities: HashSet<&str> = self.activities.iter().map(|s| s.id.as_str()).collect();
        let treaties: HashSet<u32> = self.treaties.iter().map(|t| t.number.0).collect();

        let refs = |v: &mut Validator, file: &str, record: String, source: &SourceRef| {
            if let Err(e) = source.check("source") {
                crate::rules::push_field_error(v, file, record.clone(), e);
            }
            for doc in source.documents().filter(|d| !sources.contains(d)) {
                v.push(
                    file,
                    record.clone(),
                    "source",
                    ModelError::UnknownReference { kind: "source", id: doc.to_owned() },
                );
            }
        };
        let check = |v: &mut Validator,
                     file: &str,
                     record: &str,
                     field: &str,
                     kind: &'static str,
                     set: &HashSet<&str>,
                     id: &str| {
            if !set.contains(id) {
                v.push(file, record.to_owned(), field, ModelError::UnknownReference { kind, id: id.to_owned() });
            }
        };

        for t in &self.treaties {
            refs(v, "treaties.toml", format!("treaty {}", t.number), &t.source);
            if let Some(c) = &t.coverage {
                let rec = format!("treaty {}", t.number);
                if let Err(e) = c.source.check("coverage.source") {
                    crate::rules::push_field_error(v, "treaties.toml", rec.clone(), e);
                }
                for doc in c.source.documents().filter(|d| !sources.contains(d)) {
                    v.push(
                        "treaties.toml",
                        rec.clone(),
                        "coverage.source",
                        ModelError::UnknownReference { kind: "source", id: doc.to_owned() },
                    );
                }
                if let Some(Err(e)) =
                    c.note.as_deref().map(|n| crate::limits::check_lines("coverage.note", n, crate::limits::NOTE))
                {
                    crate::rules::push_field_error(v, "treaties.toml", rec, e);
                }
            }
        }
        for (i, a) in self.treaty_actions.iter().enumerate() {
            let rec = action_label(i, a);
            refs(v, "treaty-actions.toml", rec.clone(), &a.source);
            check(v, "treaty-actions.toml", &rec, "state", "state", &states, a.state.as_str());
            if !treaties.contains(&a.treaty.0) {
                v.push("treaty-actions.toml", rec, "treaty", ModelError::UnknownTreaty(a.treaty));
            }
        }
        for s in &self.states {
            for t in s.participated_in.iter().filter(|t| !treaties.contains(&t.0)) {
                v.push("states.toml", format!("state {}", s.code), "participated_in", ModelError::UnknownTreaty(*t));
            }
        }
        for o in &self.organisations {
            refs(v, "organisations.toml", format!("organisation {}", o.id), &o.source);
        }
        for f in &self.funding_sources {
            let rec = format!("funding_source {}", f.id);
            refs(v, "funding.toml", rec.clone(), &f.source);
            for o in &f.funders {
                check(v, "funding.toml", &rec, "funders", "organisation", &orgs, o);
            }
        }
        for b in &self.budget {
            refs(v, "funding.toml", format!("budget {}", b.id), &b.source);
        }
        for c in &self.contributions {
            let rec = format!("contribution {}", c.id);
            refs(v, "funding.toml", rec.clone(), &c.source);
            check(v, "funding.toml", &rec, "donor", "organisation", &orgs, &c.donor);
        }
        for p in &self.plans {
            refs(v, "activities.toml", format!("plan {}", p.id), &p.source);
        }
        for a in &self.activities {
            let rec = format!("activity {}", a.id);
            refs(v, "activities.toml", rec.clone(), &a.source);
            for c in a.countries.iter().chain(a.place.country.as_ref()) {
                check(v, "activities.toml", &rec, "countries", "state", &states, c.as_str());
            }
            for p in &a.partners {
                check(v, "activities.toml", &rec, "partners", "organisation", &orgs, &p.organisation);
            }
            for f in &a.funding {
                check(v, "activities.toml", &rec, "funding", "funding source", &funding, f);
            }
            if let Some(plan) = &a.plan {
                check(v, "activities.toml", &rec, "plan", "plan", &plans, plan);
            }
        }
        for c in &self.cooperation {
            let rec = format!("cooperation {}", c.id);
            refs(v, "cooperation.toml", rec.clone(), &c.source);
            for o in &c.organisations {
                check(v, "cooperation.toml", &rec, "organisations", "organisation", &orgs, o);
            }
            for a in &c.activities {
                check(v, "cooperation.toml", &rec, "activities", "activity", &activities, a);
            }
        }
        for a in &self.legislative_assistance {
            let rec = format!("assistance {}", a.id);
            refs(v, "legislative-assistance.toml", rec.clone(), &a.source);
            check(v, "legislative-assistance.toml", &rec, "country", "state", &states, a.country.as_str());
        }
        for p in &self.profiles {
            let rec = format!("profile {}", p.country);
            refs(v, "profiles.toml", rec.clone(), &p.source);
            check(v, "profiles.toml", &rec, "country", "state", &states, p.country.as_str());
        }
        for c in &self.contact_points {
            let rec = format!("contact_point {}", c.country);
            refs(v, "contact-points.toml", rec.clone(), &c.source);
            check(v, "contact-points.toml", &rec, "country", "state", &states, c.country.as_str());
        }
        for s in &self.studies {
            refs(v, "studies.toml", format!("study {}", s.id), &s.source);
        }
        if !self.objective.text.is_empty() {
            // An empty store's programme has no objective yet, and so no source.
            refs(v, "programme.toml", "objective".to_owned(), &self.objective.source);
        }
        for o in &self.outputs {
            refs(v, "programme.toml", format!("output {}", o.number), &o.source);
        }
        for p in &self.priorities {
            let rec = format!("priority {}", p.id);
            refs(v, "programme.toml", rec.clone(), &p.source);
            for c in &p.countries {
                check(v, "programme.toml", &rec, "countries", "state", &states, c.as_str());
            }
            for o in &p.organisations {
                check(v, "programme.toml", &rec, "organisations", "organisation", &orgs, o);
            }
            for t in p.treaties.iter().filter(|t| !treaties.contains(&t.0)) {
                v.push("programme.toml", rec.clone(), "treaties", ModelError::UnknownTreaty(*t));
            }
        }
        for f in &self.reported_figures {
            let rec = format!("figure {}", f.id);
            refs(v, "reported-figures.toml", rec.clone(), &f.source);
            if let Some(t) = f.treaty.filter(|t| !treaties.contains(&t.0)) {
                v.push("reported-figures.toml", rec, "treaty", ModelError::UnknownTreaty(t));
            }
        }
        for d in &self.declarations {
            let rec = format!("declaration {}", d.id);
            refs(v, "declarations.toml", rec.clone(), &d.source);
            check(v, "declarations.toml", &rec, "state", "state", &states, d.state.as_str());
            if !treaties.contains(&d.treaty.0) {
                v.push("declarations.toml", rec, "treaty", ModelError::UnknownTreaty(d.treaty));
            }
        }
        self.check_declarations(v);
    }

    /// The rules of reservations, declarations and designations: their own fields, the articles within the
    /// treaty's, a withdrawal naming an earlier statement of the same state and treaty.
    fn check_declarations(&self, v: &mut Validator) {
        for d in &self.declarations {
            let rec = format!("declaration {}", d.id);
            if let Err(e) = d.check_fields() {
                crate::rules::push_field_error(v, "declarations.toml", rec.clone(), e);
            }
            let treaty = self.treaties.iter().find(|t| t.number == d.treaty);
            if let Some(count) = treaty.and_then(|t| t.articles) {
                for (i, a) in d.articles.iter().enumerate().filter(|(_, a)| a.article > count) {
                    v.push(
                        "declarations.toml",
                        rec.clone(),
                        &format!("articles[{i}]"),
                        ModelError::ArticleNotInTreaty { treaty: d.treaty, article: a.to_string(), articles: count },
                    );
                }
            }
            if let Some(t) = treaty.filter(|t| d.date.certainly_before(&t.opened)) {
                let reason = format!("{} is before {} was opened for signature ({})", d.date, t.label(), t.opened);
                crate::rules::push_field_error(
                    v,
                    "declarations.toml",
                    rec.clone(),
                    ModelError::Field { field: "date".to_owned(), reason },
                );
            }
            let Some(target) = d.withdraws.as_deref() else { continue };
            match self.declaration(target) {
                None => v.push(
                    "declarations.toml",
                    rec,
                    "withdraws",
                    ModelError::UnknownReference { kind: "declaration", id: target.to_owned() },
                ),
                Some(w) => {
                    let reason = if w.kind == DeclarationKind::Withdrawal {
                        Some(format!("`{target}` is itself a withdrawal; a withdrawal withdraws a statement"))
                    } else if (w.state.clone(), w.treaty) != (d.state.clone(), d.treaty) {
                        Some(format!(
                            "`{target}` is {}'s under {}; a state withdraws only its own statement under the same treaty",
                            w.state, w.treaty
                        ))
                    } else if d.date.certainly_before(&w.date) {
                        Some(format!("the withdrawal ({}) is before the statement it withdraws ({})", d.date, w.date))
                    } else {
                        None
                    };
                    if let Some(reason) = reason {
                        crate::rules::push_field_error(
                            v,
                            "declarations.toml",
                            rec,
                            ModelError::Field { field: "withdraws".to_owned(), reason },
                        );
                    }
                }
            }
        }
    }
}

/// `action #3 (AL ratification of 185)`.
pub(crate) fn action_label(index: usize, a: &TreatyAction) -> String {
    format!("action #{} ({} {} of {})", index + 1, a.state, a.kind.noun(), a.treaty)
}

/// Collects [`DatasetError`]s from domain errors.
pub(crate) struct Validator {
    pub(crate) errors: Vec<DatasetError>,
}

impl Validator {
    pub(crate) fn push(&mut self, file: &str, record: String, field: &str, error: ModelError) {
        self.errors.push(DatasetError {
            file: file.to_owned(),
            record: Some(record),
            field: Some(field.to_owned()),
            message: error.to_string(),
        });
    }
}
