//! Every write the API accepts stays readable: the input is decoded (with `arbitrary`'s `Unstructured`) into up
//! to 8 writes through the real handlers (CreateActivity, UpdateActivity, DeleteActivity, RecordTreatyAction)
//! by an admin, with hostile text in every text field, citation and list (`;`, control characters, bidirectional
//! overrides, line breaks, U+FFFF, emoji, combining marks, empty values and values at and past the limits).
//!
//! Each write must answer OK or a client error (never INTERNAL, DATA_LOSS, UNKNOWN...); a created activity must
//! come back with the text it was sent. When at least one write was accepted, the store must then:
//! - answer GetActivity with exactly what the write answered, for every activity written (and NOT_FOUND for the
//!   deleted ones);
//! - list them in ListActivities, paged to the end without an error, with no unreadable record named; and the
//!   store's list from memory must be its list from the database, page for page;
//! - answer GetActivityPlan over 1900-2100 with no INTERNAL or DATA_LOSS (and name no unreadable record);
//! - generate the progress report (Markdown), every chunk;
//! - export a dataset that, written with `Dataset::to_files` and read with `Dataset::parse`, is equal and valid;
//! - opened again (a second `SqlStore::open` on the same file: a restart), set nothing aside (`unreadable()` and
//!   `find_unreadable()` empty) and export the same dataset.
//!
//! The store is a SQLite file in the process's folder (see `cybercrime_fuzz::harness`): a copy of a pristine
//! store loaded once with the bundled dataset. An input that had a write accepted leaves its copy dirty, and the
//! next input starts on a fresh copy, so every input starts from the bundled data (replays are exact).

#![no_main]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use core_model::{Dataset, Filter};
use cybercrime_fuzz::{CLIENT_ERRORS, Caller, harness, request};
use cybercrime_api::{
    coe::cybercrime::v1::{
        self as pb, activity_service_server::ActivityService, report_service_server::ReportService,
        treaty_service_server::TreatyService,
    },
    google::r#type::Date,
};
use grpc_server::{
    auth::Auth,
    service::{AppState, Services},
};
use libfuzzer_sys::{Corpus, arbitrary::Unstructured, fuzz_target};
use storage::{OpenOptions, SqlStore, Store, testing::activity_pages};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

/// Text pieces the generated text is made of: separators the formats use, characters the limits refuse, and
/// characters that are allowed but easy to mangle.
const PIECES: &[&str] = &[
    ";",
    " ; ",
    ";;",
    "\n",
    "\t",
    "\r",
    "\r\n",
    "\u{202E}",
    "\u{2066}",
    "\u{2028}",
    "\u{1b}[31m",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{FFFF}",
    "\u{FFFE}",
    "\u{FEFF}",
    "\u{200B}",
    "\u{200D}",
    "\u{1F600}",
    "\u{1F469}\u{200D}\u{1F4BB}",
    "e\u{301}",
    "\u{301}",
    "\u{10FFFF}",
    "\u{E000}",
    "\u{1F1EA}\u{1F1FA}",
    "'",
    "\"",
    "\\",
    "\"\"\"",
    "'''",
    "]]",
    "[[",
    "[x]",
    "#",
    "= ",
    "|",
    "*",
    "_",
    "`",
    "<script>",
    "&amp;",
    "-->",
    "---",
    "\n# ",
    "\n\n",
    " ",
    "  ",
    "§2.1",
    "report-2007-11",
    "activities/",
    "countries/",
    "\\u0000",
    "%s",
    "{}",
    "$1",
    "ß",
    "İ",
    "ﬁ",
    "x",
    "é",
];

/// Single characters repeated to make long values.
const LONG: &[char] = &['x', 'é', '\u{1F600}', ';', '\u{FFFF}', '\n', ' ', '\u{301}'];

/// Lengths around the limits (`core_model::limits`).
const LENGTHS: &[usize] = &[99, 100, 101, 199, 200, 201, 299, 300, 301, 4095, 4096, 4097, 16383, 16384, 16385];

/// Activity ids the writes use: new ones and bundled ones.
const IDS: &[&str] =
    &["w-a", "w-b", "w.c-1", "2007-03-19-belgrade-regional-conference", "2007-06-11-octopus-interface-conference"];

fn byte(u: &mut Unstructured) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn below(u: &mut Unstructured, n: usize) -> usize {
    usize::from(byte(u)) % n.max(1)
}

fn pick<'a>(u: &mut Unstructured, items: &[&'a str]) -> &'a str {
    items[below(u, items.len())]
}

/// A text: empty, arbitrary UTF-8, hostile pieces, long values around the limits, or a plain word.
fn text(u: &mut Unstructured) -> String {
    match byte(u) % 8 {
        0 => String::new(),
        1 | 2 => {
            let n = below(u, 49);
            String::from_utf8_lossy(u.bytes(n).unwrap_or_default()).into_owned()
        }
        3..=5 => (0..1 + below(u, 8)).map(|_| pick(u, PIECES)).collect(),
        6 => {
            let c = LONG[below(u, LONG.len())];
            let n = LENGTHS[below(u, LENGTHS.len())];
            let mut s: String = std::iter::repeat_n(c, n).collect();
            if byte(u).is_multiple_of(2) {
                s.replace_range(0..c.len_utf8(), "a");
            }
            s
        }
        _ => pick(u, &["Workshop", "Conference on cybercrime", "Tirana, Albania", "March 2008", "§4.2"]).to_owned(),
    }
}

fn date(u: &mut Unstructured) -> Option<Date> {
    match byte(u) % 4 {
        0 => None,
        1 => Some(Date { year: 2008, month: 3, day: 19 }),
        2 => Some(Date { year: 1800 + below(u, 400) as i32, month: below(u, 14) as i32, day: below(u, 33) as i32 }),
        _ => Some(Date { year: u.arbitrary().unwrap_or(0), month: u.arbitrary().unwrap_or(0), day: 1 }),
    }
}

fn approx(u: &mut Unstructured) -> Option<pb::ApproxDate> {
    let texts = [
        "2008-03",
        "2007",
        "2008-03-19",
        "2004-01-01..2007-11-30",
        "..2007-11-30",
        "2007-12..2008-06",
        "2100-12",
        "9999-12-31",
        "0000-01",
        " 2008-03",
    ];
    match byte(u) % 5 {
        0 => None,
        1 | 2 => Some(pb::ApproxDate { text: pick(u, &texts).to_owned(), ..Default::default() }),
        3 => Some(pb::ApproxDate { earliest: date(u), latest: date(u), ..Default::default() }),
        _ => Some(pb::ApproxDate { text: text(u), ..Default::default() }),
    }
}

fn citations(u: &mut Unstructured) -> Vec<pb::Citation> {
    let n = match byte(u) % 8 {
        6 => 0,
        7 => 19 + below(u, 3),
        k => usize::from(k % 3) + 1,
    };
    (0..n)
        .map(|_| pb::Citation {
            document: match byte(u) % 6 {
                5 => text(u),
                4 => " CoE-2015 ".to_owned(),
                3 => "CoE-2015".to_owned(),
                _ => "report-2007-11".to_owned(),
            },
            locator: text(u),
        })
        .collect()
}

fn list(u: &mut Unstructured, max: usize, mut item: impl FnMut(&mut Unstructured) -> String) -> Vec<String> {
    (0..below(u, max + 1)).map(|_| item(u)).collect()
}

fn some_text(u: &mut Unstructured, choices: &[&str]) -> String {
    if byte(u) % 4 == 3 { text(u) } else { pick(u, choices).to_owned() }
}

fn activity(u: &mut Unstructured) -> pb::Activity {
    let id = if byte(u) % 16 == 15 { text(u) } else { pick(u, IDS).to_owned() };
    pb::Activity {
        name: format!("activities/{id}"),
        title: if byte(u).is_multiple_of(3) { "Workshop".to_owned() } else { text(u) },
        description: text(u),
        date_text: text(u),
        start: approx(u),
        end: approx(u),
        tentative: byte(u).is_multiple_of(2),
        place: Some(pb::Place {
            text: text(u),
            city: text(u),
            country: pick(u, &["", "", "countries/AL", "countries/PH", "countries/ZZ", "AL"]).to_owned(),
            region: pick(u, &["", "", "EUROPE", "ASIA_PACIFIC", "europe"]).to_owned(),
            tentative: byte(u).is_multiple_of(2),
            // 0-5 are Region values (0 unset), 6 is none: alone, or against the text above.
            region_enum: i32::from(byte(u) % 7),
        }),
        countries: list(u, 3, |u| some_text(u, &["countries/AL", "countries/DE", "countries/PH", "countries/US"])),
        // A zero byte (and an input that has run out) picks a valid value; the others, invalid ones too.
        kind: ((below(u, 9) + 1) % 9) as i32,
        status: ((below(u, 8) + 1) % 8) as i32,
        outputs: (0..below(u, 5)).map(|_| [1, 2, 3, 0, 4, -1][below(u, 6)]).collect(),
        partners: (0..below(u, 4))
            .map(|_| pb::Partner {
                organisation: format!("organisations/{}", some_text(u, &["microsoft", "itu", "eu"])),
                role: some_text(u, &["organiser", "co-organiser", "funder", "host", "supporter", "participant"]),
                // 0-6 are PartnerRole values (0 unset), 7 is none: alone, or against the text above.
                role_enum: i32::from(byte(u) % 8),
            })
            .collect(),
        funding: list(u, 3, |u| some_text(u, &["project-budget"])),
        plan: some_text(u, &["", "", "2007-12..2008-06"]),
        sources: citations(u),
        note: text(u),
        etag: String::new(),
        // Output only: sent now and then, always ignored.
        create_time: byte(u).is_multiple_of(7).then_some(prost_types::Timestamp { seconds: 1, nanos: 0 }),
        update_time: None,
    }
}

fn request_id(u: &mut Unstructured) -> String {
    pick(u, &["", "", "", "r-1", "r-2"]).to_owned()
}

/// One write.
#[derive(Debug)]
enum Write {
    Create(pb::CreateActivityRequest),
    Update(pb::UpdateActivityRequest),
    Delete(pb::DeleteActivityRequest),
    Record(pb::RecordTreatyActionRequest),
}

fn write(u: &mut Unstructured) -> Write {
    const PATHS: &[&str] = &[
        "title",
        "description",
        "date_text",
        "start",
        "end",
        "tentative",
        "place",
        "countries",
        "kind",
        "status",
        "outputs",
        "partners",
        "funding",
        "plan",
        "sources",
        "note",
        "name",
        "etag",
        "*",
        "place.city",
        "start.year",
        "no_such_field",
    ];
    match byte(u) % 4 {
        0 => Write::Create(pb::CreateActivityRequest {
            activity: Some(activity(u)),
            request_id: request_id(u),
            activity_id: String::new(),
        }),
        1 => {
            let activity = activity(u);
            let paths = (0..below(u, 4)).map(|_| pick(u, PATHS).to_owned()).collect();
            Write::Update(pb::UpdateActivityRequest {
                activity: Some(activity),
                update_mask: Some(prost_types::FieldMask { paths }),
                etag: pick(u, &["", "", "1", "\"2\"", "\"40\""]).to_owned(),
                request_id: request_id(u),
            })
        }
        2 => Write::Delete(pb::DeleteActivityRequest {
            name: format!("activities/{}", pick(u, IDS)),
            etag: pick(u, &["", "", "1", "\"2\"", "\"40\""]).to_owned(),
            request_id: request_id(u),
        }),
        _ => Write::Record(pb::RecordTreatyActionRequest {
            treaty_action: Some(pb::TreatyAction {
                country: pick(u, &["countries/AT", "countries/DE", "countries/PH", "countries/US", "countries/XX"])
                    .to_owned(),
                treaty: pick(u, &["treaties/185", "treaties/185", "treaties/189", "treaties/1"]).to_owned(),
                kind: ((below(u, 7) + 1) % 7) as i32,
                date: approx(u),
                entry_into_force: if byte(u) % 4 == 3 { date(u) } else { None },
                sources: citations(u),
                note: text(u),
                // Output only: ignored by RecordTreatyAction.
                ..Default::default()
            }),
            request_id: request_id(u),
        }),
    }
}

/// The store of the current input and the services over it.
struct Current {
    url: String,
    /// The store itself (not `dyn Store`: its list from the database is a `SqlStore` method, of storage's
    /// `test-support` feature).
    store: Arc<SqlStore>,
    services: Services,
}

/// What the target keeps between inputs.
struct State {
    /// The pristine store, loaded with the bundled dataset and never written to again (kept open: idle, its
    /// files can be copied).
    _pristine: Arc<SqlStore>,
    pristine_path: PathBuf,
    dir: PathBuf,
    generation: u64,
    current: Option<Current>,
    /// The current store has writes: the next input needs a fresh copy.
    dirty: bool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn sqlite_files(path: &Path) -> [(PathBuf, bool); 3] {
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", path.display()));
    [(path.to_owned(), true), (with("-wal"), false), (with("-shm"), false)]
}

impl State {
    fn new() -> State {
        let h = harness();
        let dir = h.dir.join("writes");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let pristine_path = dir.join("pristine.sqlite");
        let url = format!("sqlite://{}", pristine_path.display());
        let pristine = h
            .runtime
            .block_on(SqlStore::open(&url, OpenOptions::default()))
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        State { _pristine: Arc::new(pristine), pristine_path, dir, generation: 0, current: None, dirty: true }
    }

    /// The store of this input: a fresh copy of the pristine one when the last input wrote.
    fn fresh(&mut self) -> &Current {
        if self.dirty || self.current.is_none() {
            self.current = None;
            let old = self.dir.join(format!("store-{}.sqlite", self.generation));
            for (file, _) in sqlite_files(&old) {
                let _ = std::fs::remove_file(file);
            }
            self.generation += 1;
            let path = self.dir.join(format!("store-{}.sqlite", self.generation));
            for ((from, required), (to, _)) in sqlite_files(&self.pristine_path).into_iter().zip(sqlite_files(&path)) {
                // Not the shared-memory index: SQLite rebuilds it from the log.
                if to.display().to_string().ends_with("-shm") {
                    continue;
                }
                if let Err(e) = std::fs::copy(&from, &to)
                    && required
                {
                    panic!("cannot copy {} to {}: {e}", from.display(), to.display());
                }
            }
            let url = format!("sqlite://{}", path.display());
            let h = harness();
            let tokens = h.dir.join("tokens.toml");
            let auth = Auth::load(&tokens, false).unwrap_or_else(|e| panic!("tokens file: {e:#}"));
            let (store, services) = h.runtime.block_on(async {
                // Not loading the bundled data: the copy holds it, and an empty copy must fail, not be refilled.
                let options = OpenOptions { load_bundled_if_empty: false, ..OpenOptions::default() };
                let store =
                    Arc::new(SqlStore::open(&url, options).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}")));
                let records = AppState::load_records(&*store).await.unwrap_or_else(|e| panic!("load_records: {e}"));
                let (_, shutdown) = tokio::sync::watch::channel(false);
                (store.clone(), Services(Arc::new(AppState::new(store, auth, records, shutdown, 16))))
            });
            self.current = Some(Current { url, store, services });
            self.dirty = false;
        }
        self.current.as_ref().unwrap_or_else(|| unreachable!())
    }
}

/// A refusal must be a client's mistake.
fn refused(what: &str, status: &Status) {
    if verbose() {
        eprintln!("  {what}: {:?} {}", status.code(), status.message());
    }
    assert!(
        CLIENT_ERRORS.contains(&status.code()),
        "{what} answered {:?}, not a client error: {}",
        status.code(),
        status.message()
    );
}

/// What the writes of an input left: the activities written (as their last write answered) and deleted.
#[derive(Default)]
struct Model {
    written: BTreeMap<String, pb::Activity>,
    deleted: BTreeSet<String>,
    accepted: usize,
}

/// A created activity comes back with the text it was sent (the citations trimmed).
fn check_verbatim(sent: &pb::Activity, got: &pb::Activity) {
    assert_eq!(got.name, sent.name);
    assert_eq!(got.title, sent.title);
    assert_eq!(got.description, sent.description);
    assert_eq!(got.date_text, sent.date_text);
    assert_eq!(got.note, sent.note);
    assert_eq!(got.tentative, sent.tentative);
    assert_eq!(got.countries, sent.countries);
    assert_eq!(got.outputs, sent.outputs);
    assert_eq!(got.funding, sent.funding);
    assert_eq!(got.plan, sent.plan);
    assert_eq!(got.kind, sent.kind);
    assert_eq!(got.status, sent.status);
    let (sp, gp) = (sent.place.clone().unwrap_or_default(), got.place.clone().unwrap_or_default());
    assert_eq!((gp.text, gp.city, gp.country, gp.tentative), (sp.text, sp.city, sp.country, sp.tentative));
    let trimmed: Vec<(String, String)> =
        sent.sources.iter().map(|c| (c.document.trim().to_owned(), c.locator.trim().to_owned())).collect();
    let got: Vec<(String, String)> = got.sources.iter().map(|c| (c.document.clone(), c.locator.clone())).collect();
    assert_eq!(got, trimmed);
}

/// With `WRITES_VERBOSE` set, each write and its outcome go to stderr (to see what a seed or a reproducer does).
fn verbose() -> bool {
    static VERBOSE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("WRITES_VERBOSE").is_some())
}

async fn apply(s: &Services, w: Write, model: &mut Model) {
    if verbose() {
        eprintln!("write: {w:?}");
    }
    let before = model.accepted;
    apply_one(s, w, model).await;
    if verbose() {
        eprintln!("  accepted: {}", model.accepted > before);
    }
}

async fn apply_one(s: &Services, w: Write, model: &mut Model) {
    let admin = Caller::Admin;
    match w {
        Write::Create(r) => {
            let sent = r.activity.clone().unwrap_or_default();
            match ActivityService::create_activity(s, request(r, admin)).await {
                Ok(a) => {
                    let a = a.into_inner();
                    check_verbatim(&sent, &a);
                    model.deleted.remove(&a.name);
                    model.written.insert(a.name.clone(), a);
                    model.accepted += 1;
                }
                Err(e) => refused("CreateActivity", &e),
            }
        }
        Write::Update(r) => {
            let sent = r.activity.clone().unwrap_or_default();
            // Only "*" replaces the whole activity (AIP-134: an empty mask takes the fields set in it).
            let whole = r.update_mask.as_ref().is_some_and(|m| m.paths == ["*"]);
            match ActivityService::update_activity(s, request(r, admin)).await {
                Ok(a) => {
                    let a = a.into_inner();
                    if whole {
                        check_verbatim(&sent, &a);
                    }
                    model.written.insert(a.name.clone(), a);
                    model.accepted += 1;
                }
                Err(e) => refused("UpdateActivity", &e),
            }
        }
        Write::Delete(r) => {
            let name = r.name.clone();
            match ActivityService::delete_activity(s, request(r, admin)).await {
                Ok(_) => {
                    model.written.remove(&name);
                    model.deleted.insert(name);
                    model.accepted += 1;
                }
                Err(e) => refused("DeleteActivity", &e),
            }
        }
        Write::Record(r) => match TreatyService::record_treaty_action(s, request(r, admin)).await {
            Ok(_) => model.accepted += 1,
            Err(e) => refused("RecordTreatyAction", &e),
        },
    }
}

fn day(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Under `WRITES_VERBOSE`, how long each step took.
fn step(what: &str, since: &mut std::time::Instant) {
    if verbose() {
        eprintln!("  {what}: {:?}", since.elapsed());
    }
    *since = std::time::Instant::now();
}

async fn verify(c: &Current, model: &Model) {
    let mut t = std::time::Instant::now();
    let s = &c.services;
    let reader = Caller::Reader;
    // Point reads.
    for (name, want) in &model.written {
        let got = ActivityService::get_activity(s, request(pb::GetActivityRequest { name: name.clone() }, reader))
            .await
            .unwrap_or_else(|e| panic!("GetActivity {name} after it was written: {:?} {}", e.code(), e.message()));
        assert_eq!(&got.into_inner(), want, "GetActivity {name}");
    }
    for name in &model.deleted {
        let e = ActivityService::get_activity(s, request(pb::GetActivityRequest { name: name.clone() }, reader))
            .await
            .expect_err("a deleted activity is read");
        assert_eq!(e.code(), Code::NotFound, "GetActivity {name} after its delete: {}", e.message());
    }
    step("point reads", &mut t);
    // The list, paged to the end.
    let mut listed = BTreeMap::new();
    let mut token = String::new();
    loop {
        let r = pb::ListActivitiesRequest { page_size: 17, page_token: token, ..Default::default() };
        let page = ActivityService::list_activities(s, request(r, reader))
            .await
            .unwrap_or_else(|e| panic!("ListActivities: {:?} {}", e.code(), e.message()))
            .into_inner();
        assert!(page.unreadable.is_empty(), "ListActivities names unreadable records: {:?}", page.unreadable);
        for a in page.activities {
            assert!(listed.insert(a.name.clone(), a).is_none(), "an activity listed twice");
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    for (name, want) in &model.written {
        assert_eq!(listed.get(name), Some(want), "ListActivities: {name}");
    }
    for name in &model.deleted {
        assert!(!listed.contains_key(name), "ListActivities lists the deleted {name}");
    }
    let all = Filter::default();
    assert_eq!(
        activity_pages(&c.store, &all, 13, false).await,
        activity_pages(&c.store, &all, 13, true).await,
        "memory and database"
    );
    step("lists", &mut t);
    // The plan over a wide period.
    let r = pb::GetActivityPlanRequest {
        period_start: day(1900, 1, 1),
        period_end: day(2100, 12, 31),
        filter: String::new(),
    };
    match ActivityService::get_activity_plan(s, request(r, reader)).await {
        Ok(plan) => assert!(plan.get_ref().unreadable.is_empty(), "GetActivityPlan names unreadable records"),
        Err(e) => refused("GetActivityPlan", &e),
    }
    step("plan", &mut t);
    // The progress report, every chunk.
    let r = pb::GenerateProgressReportRequest {
        as_of: None,
        period_start: day(2000, 1, 1),
        period_end: None,
        format: pb::ReportFormat::Markdown as i32,
    };
    let mut stream = ReportService::generate_progress_report(s, request(r, reader))
        .await
        .unwrap_or_else(|e| panic!("GenerateProgressReport: {:?} {}", e.code(), e.message()))
        .into_inner();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        chunk.unwrap_or_else(|e| panic!("GenerateProgressReport chunk {chunks}: {:?} {}", e.code(), e.message()));
        chunks += 1;
    }
    assert!(chunks > 0, "GenerateProgressReport sent nothing");
    step("report", &mut t);
    // The export, through the dataset's files.
    let exported = c.store.export().await.unwrap_or_else(|e| panic!("export: {e}"));
    let files = exported.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let parsed = Dataset::parse(&borrowed).unwrap_or_else(|e| panic!("the export does not parse back: {e}"));
    assert!(parsed == exported, "the export parsed back differs from the export");
    let problems = parsed.validate();
    assert!(problems.is_empty(), "the export is not valid: {problems:?}");
    step("export", &mut t);
    // A restart: the same file opened again.
    let again = SqlStore::open(&c.url, OpenOptions::default()).await.unwrap_or_else(|e| panic!("reopen: {e}"));
    assert!(again.unreadable().is_empty(), "unreadable after a restart: {:?}", again.unreadable());
    let found = again.find_unreadable().await.unwrap_or_else(|e| panic!("find_unreadable: {e}"));
    assert!(found.is_empty(), "find_unreadable after a restart: {found:?}");
    let reexported = again.export().await.unwrap_or_else(|e| panic!("export after a restart: {e}"));
    assert!(reexported == exported, "the export after a restart differs");
    step("restart", &mut t);
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let mut u = Unstructured::new(data);
    let count = 1 + below(&mut u, 8);
    let mut writes = Vec::new();
    // Up to `count` writes, while the input lasts (a write whose bytes run out takes zeros: valid choices).
    while writes.len() < count && !u.is_empty() {
        writes.push(write(&mut u));
    }
    if writes.is_empty() {
        return Corpus::Reject;
    }
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(State::new);
    let mut t = std::time::Instant::now();
    let current = state.fresh();
    step("fresh store", &mut t);
    let mut model = Model::default();
    let h = harness();
    h.runtime.block_on(async {
        for w in writes {
            apply(&current.services, w, &mut model).await;
        }
        if model.accepted > 0 {
            verify(current, &model).await;
        }
    });
    if model.accepted > 0 {
        state.dirty = true;
    }
    Corpus::Keep
});
