//! PDF output (`reporting::pdf`): the 2007 report and a country brief printed by the real headless Chromium
//! (Debian's chromium, installed by scripts/test) and read back with poppler's tools (pdfinfo, pdftotext,
//! pdftoppm): A4 pages, "Page N of M" on each, a list of contents, an outline, the report's text. Screenshots of
//! the HTML and of the first PDF pages are kept in `target/artefacts/`. Fake browsers (shell scripts) show that
//! a browser that hangs is killed with its whole process group at the timeout, that one that fails is reported
//! with what it wrote, and that prints beyond the limit wait for a place.

#![allow(clippy::print_stderr)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use core_model::Dataset;
use reporting::{
    CountryBrief, Format, Period, ProgressReport, ReportError,
    pdf::{Printer, PrinterConfig},
    render_brief, render_progress,
};

/// The tool, or `None` (the test then skips loudly; under CI it fails).
fn tool(name: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing: scripts/test installs it (apt-get install {install})"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: {name} is not installed (apt-get install {install}). Under CI this test FAILS. !!!!!!!!\n"
        );
    }
    found
}

/// Chromium and poppler's tools are all there.
fn tools() -> bool {
    tool("chromium", "chromium").is_some() && tool("pdftotext", "poppler-utils").is_some()
}

/// `target/artefacts/`, where the screenshots and PDFs are kept.
fn artefacts() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/<test> -> target/artefacts
    let dir = exe.ancestors().nth(3).expect("target folder").join("artefacts");
    std::fs::create_dir_all(&dir).expect("artefacts folder");
    dir
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn report_2007() -> ProgressReport {
    ProgressReport::build(
        &Dataset::bundled(),
        "2007-11-30".parse().unwrap(),
        Period::new("2006-09-01".parse().unwrap(), "2007-11-30".parse().unwrap()).unwrap(),
    )
    .unwrap()
}

/// The `Pages:` and `Page size:` of pdfinfo.
fn pages_and_size(pdf: &Path) -> (usize, String) {
    let info = run("pdfinfo", &[pdf.to_str().unwrap()]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .trim()
            .to_owned()
    };
    (field("Pages:").parse().unwrap(), field("Page size:"))
}

/// The text of an HTML heading list: each `<h2>`'s text, tags dropped and the few entities the templates write
/// decoded.
fn h2_texts(html: &str) -> Vec<String> {
    html.split("<h2")
        .skip(1)
        .map(|h| {
            let inner = &h[h.find('>').unwrap() + 1..h.find("</h2>").unwrap()];
            let mut text = String::new();
            let mut in_tag = false;
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", "\"")
        })
        .collect()
}

/// The entries of the printed document's list of contents (its own, or the one the printer adds).
fn printer_html_links(html: &str) -> usize {
    let printed = reporting::pdf::for_print(html);
    let nav = &printed[printed.find("<nav").expect("contents")..printed.find("</nav>").expect("end")];
    nav.matches("<a href=\"#").count()
}

/// Spaces collapsed: pdftotext breaks lines where the page does.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_2007_report_prints_on_a4_with_page_numbers_contents_and_outline() {
    if !tools() {
        return;
    }
    let html = render_progress(&report_2007(), Format::Html).unwrap().body;
    let printer = Printer::new(PrinterConfig::default());
    assert!(printer.browser().is_some(), "{:?}", printer.missing());
    let bytes = printer.print(&html).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let out = artefacts();
    let pdf = out.join("report-2007.pdf");
    std::fs::write(&pdf, &bytes).unwrap();

    let (pages, size) = pages_and_size(&pdf);
    assert!(pages >= 4, "the 2007 report on {pages} pages");
    assert!(size.ends_with("(A4)"), "page size {size}");

    // Every page says "Page N of M", in order.
    let text = run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    let per_page: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(per_page.len(), pages);
    for (i, page) in per_page.iter().enumerate() {
        let want = format!("Page {} of {pages}", i + 1);
        assert!(page.contains(&want), "page {} lacks \"{want}\":\n{page}", i + 1);
    }

    // The list of contents, on the first page, names every section, in order; the report's text follows.
    let first = squeezed(per_page[0]);
    assert!(first.contains("Contents"), "{first}");
    let all = squeezed(&text);
    // The sections, past the report's own heading of its list of contents.
    let sections: Vec<String> = h2_texts(&html).into_iter().filter(|s| s != "Contents").collect();
    assert!(sections.len() >= 3, "{sections:?}");
    let mut from = 0;
    for s in &sections {
        let s = squeezed(s);
        let at = first[from..].find(&s).unwrap_or_else(|| panic!("the contents lack `{s}`: {first}"));
        from += at + s.len();
        // And the section itself, past the contents.
        assert!(all.matches(&s).count() >= 2, "the section `{s}` is not printed");
    }
    // A table that runs over pages repeats its header row (its <thead>): the list of activities of §2.1 does.
    let with_header = per_page.iter().filter(|p| squeezed(p).contains("Date Place Description")).count();
    assert!(with_header >= 3, "the activities' header on {with_header} pages");
    assert!(all.contains(&squeezed(&report_2007().title)));
    assert!(all.contains("Add. ratif."), "the ratifications table is not printed");

    // The outline (bookmarks) Chromium builds from the headings: every section is an entry (ASCII titles are
    // written as literal strings); and the list of contents' entries are links.
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/Type /Outlines"), "the PDF has no outline");
    for s in sections.iter().filter(|s| s.is_ascii() && !s.contains(['(', ')', '\\'])) {
        assert!(raw.contains(&format!("/Title ({s})")), "the outline lacks `{s}`");
    }
    let entries = printer_html_links(&html);
    assert!(entries >= sections.len(), "{entries} entries in the contents");
    assert!(raw.matches("/Subtype /Link").count() >= entries, "the contents' entries are not links in the PDF");

    // Screenshots: the first two pages, and the HTML at A4's width.
    let prefix = out.join("report-2007-pdf-page");
    run("pdftoppm", &["-png", "-r", "70", "-f", "1", "-l", "2", pdf.to_str().unwrap(), prefix.to_str().unwrap()]);
    let png = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("report-2007-pdf-page") && p.extension().is_some_and(|e| e == "png"))
        .collect::<Vec<_>>();
    assert!(png.len() >= 2, "{png:?}");
    let html_file = out.join("report-2007.html");
    std::fs::write(&html_file, &html).unwrap();
    let shot = out.join("report-2007-html-a4.png");
    let dir = tempfile::tempdir().unwrap();
    run(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", dir.path().display()),
            // A4 at 96 dpi: 794 x 1123 CSS pixels.
            "--window-size=794,1123",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", html_file.display()),
        ],
    );
    for p in png.iter().chain([&shot, &pdf]) {
        eprintln!("artefact: {}", p.display());
    }
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "the HTML screenshot is blank");
}

#[test]
fn a_country_brief_prints_too() {
    if !tools() {
        return;
    }
    let brief = CountryBrief::build(&Dataset::bundled(), "PH", "2007-11-30".parse().unwrap()).unwrap();
    let html = render_brief(&brief, Format::Html).unwrap().body;
    let bytes = Printer::new(PrinterConfig::default()).print(&html).unwrap();
    let pdf = artefacts().join("brief-PH-2007.pdf");
    std::fs::write(&pdf, &bytes).unwrap();
    let (pages, size) = pages_and_size(&pdf);
    assert!(size.ends_with("(A4)"), "page size {size}");
    let text = squeezed(&run("pdftotext", &[pdf.to_str().unwrap(), "-"]));
    assert!(text.contains("Philippines: country brief"), "{text}");
    assert!(text.contains(&format!("Page 1 of {pages}")), "{text}");
    assert!(text.contains("Contents"), "{text}");
    eprintln!("artefact: {}", pdf.display());
}

/// A fake browser: a shell script with `body`, which finds the PDF's path in `$out`.
fn fake_browser(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-chromium");
    let script = format!(
        "#!/bin/sh\nout=''\nfor a in \"$@\"; do case \"$a\" in --print-to-pdf=*) out=\"${{a#--print-to-pdf=}}\";; esac; done\n{body}\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn alive(pid: u32) -> bool {
    // A killed process may stay a zombie a moment, until init reaps it.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

#[test]
fn a_browser_that_hangs_is_killed_with_its_whole_group_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let folder = dir.path().join("folder");
    let browser = fake_browser(
        dir.path(),
        &format!(
            "dirname \"$out\" > {folder}\nsleep 300 &\necho $! > {pids}\necho $$ >> {pids}\nwait",
            folder = folder.display(),
            pids = pids.display()
        ),
    );
    let printer =
        Printer::new(PrinterConfig { browser: Some(browser), timeout: Duration::from_secs(1), max_concurrent: 1 });
    let started = Instant::now();
    let err = printer.print("<html><head></head><body><h1>x</h1></body></html>").unwrap_err();
    assert_eq!(err, ReportError::PrintTimeout { seconds: 1, waiting: false });
    assert_eq!(err.to_string(), "the PDF was not printed within 1 s (the PDF timeout): the browser was stopped");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let pids: Vec<u32> = std::fs::read_to_string(&pids).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(pids.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in pids {
        assert!(!alive(pid), "process {pid} of the browser's group outlived the timeout");
    }
    // The print's temporary folder is removed.
    let folder = std::fs::read_to_string(&folder).unwrap();
    assert!(folder.contains("cybercrime-pdf-"), "{folder}");
    assert!(!Path::new(folder.trim()).exists(), "{folder} is left behind");
}

#[test]
fn a_browser_that_fails_is_reported_with_its_last_words() {
    let dir = tempfile::tempdir().unwrap();
    let browser = fake_browser(dir.path(), "echo 'starting' >&2\necho 'boom: cannot print this page' >&2\nexit 3");
    let printer = Printer::new(PrinterConfig { browser: Some(browser.clone()), ..PrinterConfig::default() });
    let err = printer.print("<html></html>").unwrap_err();
    let ReportError::PrintFailed(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("starting | boom: cannot print this page"), "{message}");
    assert!(message.contains(&browser.display().to_string()), "{message}");

    // Exit 0 without a PDF is a failure too.
    let browser = fake_browser(dir.path(), "printf 'not a pdf' > \"$out\"");
    let printer = Printer::new(PrinterConfig { browser: Some(browser), ..PrinterConfig::default() });
    let err = printer.print("<html></html>").unwrap_err();
    assert!(err.to_string().contains("wrote no PDF"), "{err}");
}

#[test]
fn prints_beyond_the_limit_wait_for_a_place() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("lock");
    // Two prints at once would find the lock taken (mkdir fails) and fail.
    let browser = fake_browser(
        dir.path(),
        &format!(
            "mkdir {lock} || exit 9\nsleep 0.3\nrmdir {lock}\nprintf '%%PDF-1.4 fake' > \"$out\"",
            lock = lock.display()
        ),
    );
    let printer = Arc::new(Printer::new(PrinterConfig {
        browser: Some(browser),
        timeout: Duration::from_secs(20),
        max_concurrent: 1,
    }));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let printer = Arc::clone(&printer);
            std::thread::spawn(move || printer.print("<html></html>"))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), b"%PDF-1.4 fake");
    }
}

#[test]
fn the_printed_page_loads_nothing() {
    if !tools() {
        return;
    }
    use std::{
        net::TcpListener,
        sync::atomic::{AtomicUsize, Ordering},
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    {
        let hits = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                hits.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
    }
    // Markup a document never has (its values are escaped), as if it had: an image, a stylesheet, a script.
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>T</title>\
         <link rel=\"stylesheet\" href=\"http://{addr}/style.css\"></head><body><h1>T</h1><h2>1 One</h2>\
         <img src=\"http://{addr}/image.png\"><script src=\"http://{addr}/script.js\"></script></body></html>"
    );
    let bytes = Printer::new(PrinterConfig::default()).print(&html).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the printed page loaded something");

    // The same page printed by the browser alone, without the printer's policy, does load them: the listener
    // would have seen the printer's page load anything.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(&page, &html).unwrap();
    let profile = dir.path().join("profile");
    let pdf = dir.path().join("page.pdf");
    run(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", page.display()),
        ],
    );
    assert!(hits.load(Ordering::SeqCst) > 0, "the control page loaded nothing: the check above proves nothing");
}
