//! A property test, on SQLite and on PostgreSQL: whatever passes the model's own checks (`Activity::check`,
//! `TreatyAction::check_limits`) and the store's rules is written, read, listed, exported, imported and reopened
//! unchanged.
//!
//! A deterministic generator (`core_model::synthetic::Rng`, xorshift64*, a constant seed) builds a few hundred
//! activities and treaty actions with hostile but valid text: `;` and spaces in locators, multi-line
//! descriptions, emoji, combining marks, U+FFFF and U+FEFF, quotes and the characters TOML, Markdown and HTML
//! give a meaning to, and values exactly at the limits (`core_model::limits`) counted in characters of several
//! bytes. It writes them through the `Store` (creates, updates, deletes and treaty actions), then checks that:
//! - the list from memory is the list from the database, page for page;
//! - each activity reads back equal, at the etag its last write answered;
//! - the export, written with `Dataset::to_files` and read with `Dataset::parse`, is equal and valid, and holds
//!   every activity and treaty action written;
//! - imported into a fresh store of the same backend, it exports equal;
//! - the store opened again sets nothing aside (`unreadable()`, `find_unreadable()`) and exports equal.

use std::collections::BTreeMap;

use core_model::{
    ActionKind, Activity, ActivityKind, ActivityStatus, ApproxDate, Citation, CountryCode, Dataset, Filter, Partner,
    PartnerRole, Place, Region, SourceRef, TreatyAction, TreatyNumber, limits, synthetic::Rng,
};
use storage::{
    StorageError, Store, WriteContext, both_backends,
    testing::{TestStore, activity_pages},
};

both_backends!(hostile_but_valid_writes_read_back_list_export_import_and_reopen_unchanged);

/// The seed: the same data on every run.
const SEED: u64 = 0x5EED_2026_1201;
/// Activities created (some then updated or deleted).
const ACTIVITIES: usize = 300;

/// Pieces of one-line text: allowed everywhere, each easy to mangle.
const LINE: &[&str] = &[
    ";",
    " ; ",
    ";;",
    "§2.1; §2.3",
    "\u{1F600}",
    "\u{1F469}\u{200D}\u{1F4BB}",
    "\u{1F1EA}\u{1F1FA}",
    "e\u{301}",
    "\u{301}",
    "\u{FFFF}",
    "\u{FFFE}",
    "\u{FEFF}",
    "\u{200B}",
    "\u{10FFFF}",
    "\u{E000}",
    "'",
    "\"",
    "\\",
    "\\n",
    "\"\"\"",
    "'''",
    "]]",
    "[[x]]",
    "# ",
    "= ",
    "|",
    "*",
    "_",
    "`",
    "<script>alert(1)</script>",
    "&amp;",
    "-->",
    " ",
    "  ",
    "İ",
    "ß",
    "ﬁ",
    "Σ",
    "中文",
    "x",
];

/// Pieces only multi-line text may hold.
const LINES: &[&str] = &["\n", "\t", "\n\n", "\n# heading\n", "\n---\n", "\u{2028}", "\u{2029}", "\n| a | b |\n"];

/// Characters of one, two, three and four bytes, to fill values up to their limits.
const FILL: &[char] = &['x', 'é', '\u{FFFF}', '\u{1F600}', ';', '\u{301}'];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    rng.pick(items)
}

/// A one-line text of at most `max` characters: usually a few pieces, sometimes exactly `max` characters.
fn line(rng: &mut Rng, max: usize) -> String {
    let text: String = if rng.below(8) == 0 {
        let c = *pick(rng, FILL);
        // Not starting with a combining mark, so that the text is not only marks.
        std::iter::once('a').chain(std::iter::repeat_n(c, max - 1)).collect()
    } else {
        (0..1 + rng.below(6)).map(|_| *pick(rng, LINE)).collect()
    };
    assert!(limits::check_line("generated", &text, max).is_ok(), "the generator made an invalid line: {text:?}");
    text
}

/// A text of several lines of at most `max` characters.
fn lines(rng: &mut Rng, max: usize) -> String {
    let text: String = if rng.below(8) == 0 {
        let c = *pick(rng, FILL);
        let mut s: String = std::iter::repeat_n(c, max - 2).collect();
        s.insert(0, 'a');
        s.push('\n');
        s
    } else {
        (0..1 + rng.below(12)).map(|_| if rng.below(3) == 0 { *pick(rng, LINES) } else { *pick(rng, LINE) }).collect()
    };
    assert!(limits::check_lines("generated", &text, max).is_ok(), "the generator made invalid lines: {text:?}");
    text
}

fn maybe<T>(rng: &mut Rng, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
    if rng.below(2) == 0 { Some(f(rng)) } else { None }
}

/// 1 to 3 citations (sometimes the most allowed), of the documents the store holds, with hostile locators.
fn source(rng: &mut Rng, documents: &[String]) -> SourceRef {
    let n = if rng.below(10) == 0 { limits::CITATIONS } else { 1 + rng.below(3) };
    SourceRef(
        (0..n)
            .map(|_| Citation {
                document: pick(rng, documents).clone(),
                locator: maybe(rng, |rng| line(rng, limits::LOCATOR)),
            })
            .collect(),
    )
}

fn approx_date(rng: &mut Rng) -> ApproxDate {
    let year = 1995 + rng.below(40) as i32;
    let month = 1 + rng.below(12) as u32;
    match rng.below(4) {
        0 => ApproxDate::day(year, month, 1 + rng.below(28) as u32).expect("a day"),
        1 => ApproxDate::Month { year, month },
        2 => ApproxDate::Year(year),
        _ => ApproxDate::Between {
            earliest: chrono::NaiveDate::from_ymd_opt(year, month, 1),
            latest: chrono::NaiveDate::from_ymd_opt(year + 1, month, 1),
        },
    }
}

/// What the activities may refer to: the bundled dataset's records.
struct Refs {
    documents: Vec<String>,
    countries: Vec<CountryCode>,
    organisations: Vec<String>,
    funding: Vec<String>,
    plans: Vec<String>,
}

impl Refs {
    fn of(ds: &Dataset) -> Refs {
        Refs {
            documents: ds.sources.iter().map(|s| s.id.clone()).collect(),
            countries: ds.states.iter().map(|s| s.code.clone()).collect(),
            organisations: ds.organisations.iter().map(|o| o.id.clone()).collect(),
            funding: ds.funding_sources.iter().map(|f| f.id.clone()).collect(),
            plans: ds.plans.iter().map(|p| p.id.clone()).collect(),
        }
    }
}

fn activity(rng: &mut Rng, refs: &Refs, id: String) -> Activity {
    const KINDS: [ActivityKind; 7] = [
        ActivityKind::Conference,
        ActivityKind::Workshop,
        ActivityKind::Training,
        ActivityKind::LegislativeAnalysis,
        ActivityKind::Meeting,
        ActivityKind::Study,
        ActivityKind::Mission,
    ];
    const STATUSES: [ActivityStatus; 6] = [
        ActivityStatus::Pipeline,
        ActivityStatus::Implementation,
        ActivityStatus::Completed,
        ActivityStatus::Closed,
        ActivityStatus::Cancelled,
        ActivityStatus::Suspended,
    ];
    const ROLES: [PartnerRole; 6] = [
        PartnerRole::Organiser,
        PartnerRole::CoOrganiser,
        PartnerRole::Funder,
        PartnerRole::Host,
        PartnerRole::Supporter,
        PartnerRole::Participant,
    ];
    let start = maybe(rng, approx_date);
    // An end no earlier than the start: a later year.
    let end = start.and_then(|s| {
        let year = s.latest().map(|d| chrono::Datelike::year(&d)).unwrap_or(2035);
        maybe(rng, |rng| ApproxDate::Year(year + rng.below(3) as i32))
    });
    let mut title = line(rng, limits::TITLE);
    if title.trim().is_empty() {
        title.push('t');
    }
    let mut outputs: Vec<u8> = vec![1, 2, 3];
    outputs.truncate(rng.below(4));
    Activity {
        id,
        title,
        description: if rng.below(10) == 0 { String::new() } else { lines(rng, limits::DESCRIPTION) },
        date_text: if rng.below(3) == 0 { String::new() } else { line(rng, limits::DATE_TEXT) },
        start,
        end,
        tentative: rng.below(5) == 0,
        place: Place {
            text: line(rng, limits::PLACE),
            city: maybe(rng, |rng| line(rng, limits::PLACE)),
            country: maybe(rng, |rng| pick(rng, &refs.countries).clone()),
            region: maybe(rng, |rng| *pick(rng, &Region::ALL)),
            tentative: rng.below(5) == 0,
        },
        countries: {
            let mut c: Vec<CountryCode> = (0..rng.below(4)).map(|_| pick(rng, &refs.countries).clone()).collect();
            c.sort();
            c.dedup();
            c
        },
        kind: *pick(rng, &KINDS),
        status: *pick(rng, &STATUSES),
        outputs,
        partners: {
            let mut p: Vec<Partner> = (0..rng.below(3))
                .map(|_| Partner { organisation: pick(rng, &refs.organisations).clone(), role: *pick(rng, &ROLES) })
                .collect();
            p.sort_by(|a, b| a.organisation.cmp(&b.organisation));
            p.dedup_by(|a, b| a.organisation == b.organisation);
            p
        },
        funding: (0..rng.below(2)).map(|_| pick(rng, &refs.funding).clone()).collect(),
        plan: if refs.plans.is_empty() { None } else { maybe(rng, |rng| pick(rng, &refs.plans).clone()) },
        source: source(rng, &refs.documents),
        note: maybe(rng, |rng| lines(rng, limits::NOTE)),
    }
}

/// An activity id: plain, or holding one-line pieces (the store takes any one line of at most 100 characters).
fn activity_id(rng: &mut Rng, n: usize) -> String {
    if rng.below(4) == 0 {
        let mut id = format!("rt-{n}-{}", line(rng, 40));
        id.truncate(id.char_indices().nth(limits::REFERENCE).map_or(id.len(), |(i, _)| i));
        id
    } else {
        format!("rt-{n}")
    }
}

fn editor() -> WriteContext {
    WriteContext::by("editor@roundtrip")
}

/// Through the dataset's files and back: equal, and valid.
fn through_files(ds: &Dataset) -> Dataset {
    let files = ds.to_files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let parsed = Dataset::parse(&borrowed).unwrap_or_else(|e| panic!("the export does not parse back: {e}"));
    let problems = parsed.validate();
    assert!(problems.is_empty(), "the export parsed back is not valid: {problems:?}");
    parsed
}

#[allow(clippy::print_stderr)] // what was written, for whoever reads the test's output
async fn hostile_but_valid_writes_read_back_list_export_import_and_reopen_unchanged(t: TestStore) {
    let started = std::time::Instant::now();
    let store = &t.store;
    let all = Filter::default();
    let bundled = Dataset::bundled();
    let refs = Refs::of(&bundled);
    let mut rng = Rng::new(SEED);
    // What the store must hold afterwards: id -> (activity, etag).
    let mut model: BTreeMap<String, (Activity, String)> = BTreeMap::new();
    for a in &bundled.activities {
        model.insert(a.id.clone(), (a.clone(), "\"1\"".to_owned())); // the first load is the first write
    }

    // Creates, each checked by the model's own rules first.
    let mut ids = Vec::new();
    for n in 0..ACTIVITIES {
        let id = activity_id(&mut rng, n);
        let a = activity(&mut rng, &refs, id);
        a.check().unwrap_or_else(|e| panic!("the generator made an invalid activity: {e}: {a:?}"));
        let v = store.create_activity(&editor(), a.clone()).await.unwrap_or_else(|e| panic!("create {:?}: {e}", a.id));
        assert_eq!(v.record, a, "what create answers");
        ids.push(a.id.clone());
        model.insert(a.id.clone(), (a, v.etag));
    }
    // Updates of a third (the bundled activities among them) and deletes of a tenth.
    let mut targets: Vec<String> = bundled.activities.iter().map(|a| a.id.clone()).take(10).collect();
    targets.extend(ids.iter().step_by(3).cloned());
    for id in &targets {
        let a = activity(&mut rng, &refs, id.clone());
        a.check().unwrap_or_else(|e| panic!("the generator made an invalid activity: {e}: {a:?}"));
        let etag = model[id].1.clone();
        let v = store
            .update_activity(&editor(), a.clone(), Some(&etag))
            .await
            .unwrap_or_else(|e| panic!("update {id:?}: {e}"));
        assert_eq!(v.record, a, "what update answers");
        model.insert(id.clone(), (a, v.etag));
    }
    for id in ids.iter().skip(1).step_by(10) {
        store.delete_activity(&editor(), id, None).await.unwrap_or_else(|e| panic!("delete {id:?}: {e}"));
        model.remove(id);
    }

    // Treaty actions: for each state and treaty, the next steps (sign, ratify, or ask, be invited, accede) in
    // 2030, with hostile citations and notes; the rules refuse what does not follow (kept out of the model).
    let mut recorded = Vec::new();
    let mut refused = 0;
    const KINDS: [ActionKind; 5] = [
        ActionKind::Signature,
        ActionKind::Ratification,
        ActionKind::AccessionRequest,
        ActionKind::Invitation,
        ActionKind::Accession,
    ];
    for treaty in [185, 189] {
        for (i, state) in bundled.states.iter().enumerate() {
            for (k, kind) in KINDS.into_iter().enumerate() {
                let action = TreatyAction {
                    state: state.code.clone(),
                    treaty: TreatyNumber(treaty),
                    kind,
                    date: ApproxDate::day(2030, 1 + (k as u32), 1 + (i % 28) as u32).expect("a day"),
                    entry_into_force: None,
                    source: source(&mut rng, &refs.documents),
                    note: maybe(&mut rng, |rng| lines(rng, limits::NOTE)),
                };
                action.check_limits().unwrap_or_else(|e| panic!("the generator made an invalid action: {e}"));
                match store.record_treaty_action(&editor(), action.clone()).await {
                    Ok(a) => {
                        assert_eq!(a.record, action, "what record_treaty_action answers");
                        recorded.push(action);
                    }
                    Err(StorageError::Rule(_)) => refused += 1,
                    Err(e) => panic!("record {action:?}: not a rule's refusal: {e}"),
                }
            }
        }
    }
    assert!(recorded.len() >= 50, "only {} treaty actions were accepted ({refused} refused)", recorded.len());
    let bytes: usize = model.values().map(|(a, _)| serde_json::to_string(a).map_or(0, |j| j.len())).sum();
    eprintln!(
        "{:?}: {ACTIVITIES} activities created, {} updated, {} deleted ({} kept, {bytes} bytes as JSON); {} treaty \
         actions recorded, {refused} refused by the rules; written in {:?}",
        store.backend(),
        targets.len(),
        ids.iter().skip(1).step_by(10).count(),
        model.len(),
        recorded.len(),
        started.elapsed()
    );

    // The list from memory is the database's, page for page.
    for size in [1, 7, 100, 1000] {
        assert_eq!(
            activity_pages(store, &all, size, false).await,
            activity_pages(store, &all, size, true).await,
            "pages of {size}"
        );
    }
    let listed: Vec<String> =
        activity_pages(store, &all, 1000, false).await.into_iter().flat_map(|(items, _)| items).collect();
    let mut expected: Vec<String> = model.iter().map(|(id, (_, etag))| format!("{id}@{etag}")).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "the list holds every activity written, at its etag, and no deleted one");
    // Each reads back equal.
    for (id, (a, etag)) in &model {
        let v = store.get_activity(id).await.unwrap_or_else(|e| panic!("get {id:?}: {e}"));
        assert_eq!((&v.record, &v.etag), (a, etag), "{id:?} read back");
    }

    // The export, through the dataset's files.
    let exported = store.export().await.expect("export");
    assert_eq!(through_files(&exported), exported, "the export through its files");
    let exported_activities: BTreeMap<&str, &Activity> =
        exported.activities.iter().map(|a| (a.id.as_str(), a)).collect();
    assert_eq!(exported_activities.len(), model.len());
    for (id, (a, _)) in &model {
        assert_eq!(exported_activities.get(id.as_str()), Some(&a), "{id:?} in the export");
    }
    for a in &recorded {
        assert!(exported.treaty_actions.contains(a), "{a:?} in the export");
    }

    // Imported into a fresh store: the same export.
    let fresh = t.new_empty().await;
    fresh.store.import(&editor(), &through_files(&exported)).await.expect("import");
    assert_eq!(fresh.store.export().await.expect("export of the import"), exported, "export, import, export");
    assert_eq!(
        activity_pages(&fresh.store, &all, 7, false).await,
        activity_pages(&fresh.store, &all, 7, true).await,
        "the imported store's list from memory and from the database"
    );

    // Opened again: nothing set aside, the same data.
    let again = t.reopen().await;
    assert!(again.unreadable().is_empty(), "{:?}", again.unreadable());
    let found = again.find_unreadable().await.expect("find_unreadable");
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(again.export().await.expect("export after reopening"), exported, "reopened");
    for (id, (a, etag)) in &model {
        let v = again.get_activity(id).await.unwrap_or_else(|e| panic!("get {id:?} after reopening: {e}"));
        assert_eq!((&v.record, &v.etag), (a, etag), "{id:?} read back after reopening");
    }
    eprintln!("{:?}: every check passed in {:?} in all", store.backend(), started.elapsed());
}
