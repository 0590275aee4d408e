//! PDF: a document's HTML printed by a headless Chromium (`chromium --headless --print-to-pdf`).
//!
//! [`Printer::print`] takes the HTML of [`crate::render_progress`] or [`crate::render_brief`] and adds, for print
//! only ([`for_print`]): an A4 print stylesheet (`templates/print.css`: "Page N of M" at the foot of every page,
//! through CSS page-margin boxes), a list of contents linking to every section (built from the `<h2>` and `<h3>`
//! headings, which get ids), and a content security policy that lets the page load nothing and run no script.
//! Chromium generates the PDF's outline (bookmarks) from the same headings (`--generate-pdf-document-outline`).
//!
//! Each print runs one browser in a temporary folder of its own (the HTML, a fresh profile, the PDF), removed
//! afterwards, and in a process group of its own: the whole group is killed when the print takes longer than
//! [`PrinterConfig::timeout`], and after every print, so that no helper process outlives it. At most
//! [`PrinterConfig::max_concurrent`] prints run at once; a print beyond waits for a place within the same
//! timeout. Without a browser ([`Printer::none`], or none found), printing fails with
//! [`ReportError::PrinterMissing`].

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    str::FromStr,
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use crate::{Format, ReportError, Result};

/// The media type of a PDF.
pub const MEDIA_TYPE: &str = "application/pdf";

/// The environment variable naming the browser, when no path is given in the configuration.
pub const BROWSER_ENV: &str = "CYBERCRIME_CHROMIUM";

/// The names looked up on `PATH` when neither a path nor [`BROWSER_ENV`] names the browser.
pub const BROWSER_NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

const PRINT_CSS: &str = include_str!("../templates/print.css");

/// The policy of the printed page: it loads nothing (no network, no file), runs no script; its own inline styles
/// and the chart's inline SVG are all it has.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// What a report is asked for in: a document of one of [`Format`]'s formats, or its HTML printed to PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Markdown, HTML or JSON ([`crate::render_progress`]).
    Document(Format),
    /// The HTML printed to PDF ([`Printer::print`]).
    Pdf,
}

impl Output {
    /// The format the document is written in: HTML for a PDF.
    pub fn written_as(self) -> Format {
        match self {
            Output::Document(format) => format,
            Output::Pdf => Format::Html,
        }
    }

    /// The media type of the output.
    pub fn media_type(self) -> &'static str {
        match self {
            Output::Document(format) => format.media_type(),
            Output::Pdf => MEDIA_TYPE,
        }
    }
}

impl FromStr for Output {
    type Err = ReportError;

    /// `markdown` (`md`), `html`, `json` or `pdf`, in any case.
    fn from_str(s: &str) -> Result<Output> {
        if s.eq_ignore_ascii_case("pdf") { Ok(Output::Pdf) } else { s.parse().map(Output::Document) }
    }
}

/// How PDFs are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterConfig {
    /// The browser (a Chromium); `None`: [`BROWSER_ENV`], else the first of [`BROWSER_NAMES`] on `PATH`.
    pub browser: Option<PathBuf>,
    /// The longest a print may take, waiting for a place included; the browser is then killed.
    pub timeout: Duration,
    /// Prints at once (each is a browser: a few hundred MB of memory).
    pub max_concurrent: usize,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig { browser: None, timeout: Duration::from_secs(20), max_concurrent: 2 }
    }
}

/// Prints HTML to PDF with a headless Chromium (see the [module](self)).
#[derive(Debug, Clone)]
pub struct Printer {
    /// The browser, or why there is none.
    browser: std::result::Result<PathBuf, String>,
    timeout: Duration,
    max_concurrent: usize,
    /// Prints running now.
    running: Arc<(Mutex<usize>, Condvar)>,
}

impl Printer {
    /// A printer with this configuration. The browser is looked up now: a path given must be an executable
    /// file, else the printer has none and says why ([`Printer::missing`]).
    pub fn new(config: PrinterConfig) -> Printer {
        let browser = match config.browser {
            Some(path) => executable(&path).then_some(path.clone()).ok_or_else(|| {
                format!("the browser {} configured for PDF output is not an executable file", path.display())
            }),
            None => match std::env::var_os(BROWSER_ENV).filter(|v| !v.is_empty()) {
                Some(path) => {
                    let path = PathBuf::from(path);
                    executable(&path)
                        .then_some(path.clone())
                        .ok_or_else(|| format!("{BROWSER_ENV}={} is not an executable file", path.display()))
                }
                None => find_browser().ok_or_else(|| {
                    format!(
                        "no Chromium found for PDF output ({} are not on PATH; install chromium or name it with \
                         --chromium or {BROWSER_ENV})",
                        BROWSER_NAMES.join(", ")
                    )
                }),
            },
        };
        Printer {
            browser,
            timeout: config.timeout,
            max_concurrent: config.max_concurrent.max(1),
            running: Arc::new((Mutex::new(0), Condvar::new())),
        }
    }

    /// A printer without a browser: every print fails with [`ReportError::PrinterMissing`] saying `why`, and no
    /// process is started.
    pub fn none(why: impl Into<String>) -> Printer {
        Printer {
            browser: Err(why.into()),
            timeout: PrinterConfig::default().timeout,
            max_concurrent: 1,
            running: Arc::new((Mutex::new(0), Condvar::new())),
        }
    }

    /// The browser it starts, if it has one.
    pub fn browser(&self) -> Option<&Path> {
        self.browser.as_deref().ok()
    }

    /// Why it has no browser, if it has none.
    pub fn missing(&self) -> Option<&str> {
        self.browser.as_ref().err().map(String::as_str)
    }

    /// The longest a print may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `html` (a document of this crate) printed to PDF on A4, with page numbers, a list of contents and an
    /// outline. Blocks until the PDF is printed, or the timeout.
    pub fn print(&self, html: &str) -> Result<Vec<u8>> {
        let browser = self.browser.as_ref().map_err(|why| ReportError::PrinterMissing(why.clone()))?;
        let deadline = Instant::now() + self.timeout;
        let _place = self.place(deadline)?;
        let dir = tempfile::Builder::new()
            .prefix("cybercrime-pdf-")
            .tempdir()
            .map_err(|e| ReportError::PrintFailed(format!("cannot create a temporary folder: {e}")))?;
        let page = dir.path().join("document.html");
        std::fs::write(&page, for_print(html))
            .map_err(|e| ReportError::PrintFailed(format!("cannot write {}: {e}", page.display())))?;
        let pdf = dir.path().join("document.pdf");
        let log = dir.path().join("browser.log");
        let log_file = std::fs::File::create(&log)
            .map_err(|e| ReportError::PrintFailed(format!("cannot write {}: {e}", log.display())))?;
        let mut command = Command::new(browser);
        command
            .args(browser_args(&dir.path().join("profile"), &pdf))
            .arg(file_url(&page))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        new_process_group(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| ReportError::PrinterMissing(format!("cannot start the browser {}: {e}", browser.display())))?;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    return Err(ReportError::PrintTimeout { seconds: self.timeout.as_secs(), waiting: false });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    kill_group(&mut child);
                    let _ = child.wait();
                    return Err(ReportError::PrintFailed(format!("cannot wait for the browser: {e}")));
                }
            }
        };
        // The helpers the browser started (zygote, renderer, crash handler) share its group: none outlives it.
        kill_group(&mut child);
        let bytes = std::fs::read(&pdf).unwrap_or_default();
        if !status.success() || !bytes.starts_with(b"%PDF-") {
            let why = if status.success() { "wrote no PDF".to_owned() } else { format!("ended with {status}") };
            return Err(ReportError::PrintFailed(format!("the browser {} {why}{}", browser.display(), tail(&log))));
        }
        Ok(bytes)
    }

    /// A place among the prints running at once, waited for until `deadline`.
    fn place(&self, deadline: Instant) -> Result<Place> {
        let (count, freed) = &*self.running;
        let mut running = count.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *running >= self.max_concurrent {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReportError::PrintTimeout { seconds: self.timeout.as_secs(), waiting: true });
            }
            running = freed.wait_timeout(running, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        *running += 1;
        Ok(Place(Arc::clone(&self.running)))
    }
}

/// A print's place; given back when dropped.
struct Place(Arc<(Mutex<usize>, Condvar)>);

impl Drop for Place {
    fn drop(&mut self) {
        let (count, freed) = &*self.0;
        *count.lock().unwrap_or_else(std::sync::PoisonError::into_inner) -= 1;
        freed.notify_one();
    }
}

/// The first of [`BROWSER_NAMES`] found as an executable file in a folder of `PATH`.
pub fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    BROWSER_NAMES
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| executable(candidate))
}

fn executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The browser's command line, but for the page: headless, no network of its own (background networking,
/// component updates, sync), a fresh profile, the PDF without Chromium's own header and footer
/// (the print stylesheet numbers the pages) and with an outline from the headings. The sandbox is off only when
/// running as root, where Chromium refuses to start with it.
fn browser_args(profile: &Path, pdf: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-pdf-header-footer",
        "--generate-pdf-document-outline",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    if running_as_root() {
        args.push("--no-sandbox".into());
    }
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--print-to-pdf={}", pdf.display()));
    args
}

#[cfg(unix)]
fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}

#[cfg(unix)]
fn new_process_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

#[cfg(not(unix))]
fn new_process_group(_: &mut Command) {}

/// Kills the child's whole process group (it leads one of its own).
#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    let pid = rustix::process::Pid::from_child(child);
    // ESRCH: the group is gone already.
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// A `file://` URL of an absolute path, each byte outside the unreserved set and `/` percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// The last lines the browser wrote, for an error message (at most 600 bytes), after ": ".
fn tail(log: &Path) -> String {
    let mut text = String::new();
    let _ = std::fs::File::open(log).and_then(|mut f| f.read_to_string(&mut text));
    // Chromium's complaints that there is no D-Bus (on every start, headless) say nothing of the failure.
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains(":ERROR:dbus/")).collect();
    let mut last = lines[lines.len().saturating_sub(3)..].join(" | ");
    if last.len() > 600 {
        let mut cut = last.len() - 600;
        while !last.is_char_boundary(cut) {
            cut += 1;
        }
        last = format!("…{}", &last[cut..]);
    }
    if last.is_empty() { String::new() } else { format!(": {last}") }
}

/// A heading of the document, for the list of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heading {
    /// 2 or 3.
    level: u8,
    /// Its id (given when it had none).
    id: String,
    /// Its text, as HTML (escaped as the document has it, tags dropped).
    text: String,
}

/// `html` as it is printed: the content security policy first in `<head>` (so that it covers all that follows),
/// the print stylesheet at the end of `<head>`, an id on every `<h2>` and `<h3>` without one, and a list of
/// contents linking to them before the first `<h2>`, unless the document has its own (a `<nav>`, as the progress
/// report has): then the printed page would list its contents twice.
pub fn for_print(html: &str) -> String {
    let (html, headings) = with_heading_ids(html);
    let mut out = String::with_capacity(html.len() + PRINT_CSS.len() + 4096);
    let csp = format!("\n<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n");
    let (head, rest) = match html.find("</head>") {
        Some(at) => html.split_at(at),
        None => ("", html.as_str()),
    };
    match head.find("<head>") {
        Some(at) => {
            out.push_str(&head[..at + "<head>".len()]);
            out.push_str(&csp);
            out.push_str(&head[at + "<head>".len()..]);
        }
        None => {
            out.push_str(head);
            out.push_str(&csp);
        }
    }
    out.push_str(&format!("<style>\n{PRINT_CSS}</style>\n"));
    let has_own_contents = rest.contains("<nav");
    match (rest.find("<h2"), headings.is_empty() || has_own_contents) {
        (Some(first), false) => {
            out.push_str(&rest[..first]);
            out.push_str(&contents(&headings));
            out.push_str(&rest[first..]);
        }
        _ => out.push_str(rest),
    }
    out
}

/// The list of contents: the `<h2>` headings, each with its `<h3>` headings under it.
fn contents(headings: &[Heading]) -> String {
    let mut out = String::from("<nav class=\"toc\" aria-label=\"Contents\"><p class=\"toc-title\">Contents</p>\n<ol>");
    let mut open_sub = false;
    let mut any_top = false;
    for h in headings {
        let link = format!("<a href=\"#{}\">{}</a>", h.id, h.text);
        match h.level {
            2 => {
                if open_sub {
                    out.push_str("</ol>");
                    open_sub = false;
                }
                if any_top {
                    out.push_str("</li>\n");
                }
                out.push_str(&format!("<li>{link}"));
                any_top = true;
            }
            _ => {
                if !any_top {
                    out.push_str("<li>");
                    any_top = true;
                }
                if !open_sub {
                    out.push_str("<ol>");
                    open_sub = true;
                }
                out.push_str(&format!("<li>{link}</li>"));
            }
        }
    }
    if open_sub {
        out.push_str("</ol>");
    }
    if any_top {
        out.push_str("</li>");
    }
    out.push_str("</ol></nav>\n");
    out
}

/// `html` with an id on every `<h2>` and `<h3>` (`section-N` where it had none), and those headings in order.
fn with_heading_ids(html: &str) -> (String, Vec<Heading>) {
    let mut out = String::with_capacity(html.len() + 1024);
    let mut headings = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<h") {
        let after = &rest[at + 2..];
        let level = match after.as_bytes() {
            [b @ (b'2' | b'3'), b'>' | b' ' | b'\t' | b'\n', ..] => b - b'0',
            _ => {
                out.push_str(&rest[..at + 2]);
                rest = after;
                continue;
            }
        };
        let Some(tag_end) = after.find('>') else { break };
        let attributes = &after[1..tag_end];
        let close = format!("</h{level}>");
        let Some(text_end) = after[tag_end + 1..].find(&close) else { break };
        let inner = &after[tag_end + 1..tag_end + 1 + text_end];
        let id = match attribute(attributes, "id") {
            Some(id) => {
                out.push_str(&rest[..at + 3 + tag_end]);
                id.to_owned()
            }
            None => {
                let id = format!("section-{}", headings.len() + 1);
                out.push_str(&rest[..at + 3]);
                out.push_str(&format!(" id=\"{id}\""));
                out.push_str(&rest[at + 3..at + 3 + tag_end]);
                id
            }
        };
        headings.push(Heading { level, id, text: strip_tags(inner) });
        rest = &after[tag_end + 1..];
    }
    out.push_str(rest);
    (out, headings)
}

/// The value of `name="..."` among a tag's attributes.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let mut from = 0;
    while let Some(found) = attributes[from..].find(&key) {
        let at = from + found;
        let value = at + key.len();
        if attributes[..at].chars().next_back().is_none_or(char::is_whitespace) {
            let end = attributes[value..].find('"')?;
            return Some(&attributes[value..value + end]);
        }
        from = value;
    }
    None
}

/// HTML without its tags (the text keeps its entities), on one line.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(if c.is_whitespace() { ' ' } else { c }),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_and_a_list_of_contents_links_to_them() {
        let html = "<html><head><title>T</title></head><body><h1>T</h1><p>x</p>\
                    <h2>1 Background &amp; aims</h2><h3 class=\"a\">1.1 <em>One</em></h3>\
                    <h2 id=\"given\">2 Two</h2><h4>not listed</h4><h3>2.1 A</h3><h3>2.2 B</h3></body></html>";
        let printed = for_print(html);
        assert!(printed.contains("<h2 id=\"section-1\">1 Background &amp; aims</h2>"), "{printed}");
        assert!(printed.contains("<h3 id=\"section-2\" class=\"a\">1.1 <em>One</em></h3>"), "{printed}");
        assert!(printed.contains("<h2 id=\"given\">2 Two</h2>"), "{printed}");
        let nav = &printed[printed.find("<nav").expect("contents")..printed.find("</nav>").expect("end")];
        assert_eq!(
            nav.split("<a href=").skip(1).map(|l| &l[..l.find("</a>").expect("link")]).collect::<Vec<_>>(),
            [
                "\"#section-1\">1 Background &amp; aims",
                "\"#section-2\">1.1 One",
                "\"#given\">2 Two",
                "\"#section-4\">2.1 A",
                "\"#section-5\">2.2 B",
            ]
        );
        assert_eq!(nav.matches("<ol>").count(), 3, "{nav}");
        assert!(printed.find("<nav").expect("nav") < printed.find("<h2").expect("h2"));
        assert!(printed.starts_with("<html><head>\n<meta http-equiv=\"Content-Security-Policy\""), "{printed}");
        assert!(printed.find("counter(pages)").expect("print css") > printed.find("<title>").expect("title"));
        assert!(printed.find("counter(pages)").expect("print css") < printed.find("</head>").expect("head"));
        assert!(printed.contains("counter(pages)"));
    }

    #[test]
    fn a_document_with_its_own_list_of_contents_gets_no_second_one() {
        let html = "<html><head></head><body><nav class=\"contents\"><h2>Contents</h2><ul><li><a href=\"#b\">1 B</a>\
                    </li></ul></nav><h2 id=\"b\">1 B</h2><h2>2 C</h2></body></html>";
        let printed = for_print(html);
        assert_eq!(printed.matches("<nav").count(), 1, "{printed}");
        assert!(!printed.contains("class=\"toc\""), "{printed}");
        assert!(printed.contains("<h2 id=\"section-3\">2 C</h2>"), "ids are still given: {printed}");
    }

    #[test]
    fn a_document_without_sections_gets_no_list_of_contents() {
        let printed = for_print("<html><head></head><body><h1>T</h1><h20>x</h20></body></html>");
        assert!(!printed.contains("<nav"), "{printed}");
        assert!(printed.contains("<h20>x</h20>"));
    }

    #[test]
    fn a_printer_without_a_browser_starts_nothing() {
        let printer = Printer::none("no browser here");
        assert_eq!(printer.print("<html></html>"), Err(ReportError::PrinterMissing("no browser here".into())));
        let printer =
            Printer::new(PrinterConfig { browser: Some("/nonexistent/chromium".into()), ..PrinterConfig::default() });
        assert_eq!(
            printer.missing(),
            Some("the browser /nonexistent/chromium configured for PDF output is not an executable file")
        );
    }

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(file_url(Path::new("/tmp/a b/ü#.html")), "file:///tmp/a%20b/%C3%BC%23.html");
    }
}
