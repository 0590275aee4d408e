//! The HTML report in a real headless browser (Debian's chromium, installed by scripts/test): printed to PDF and
//! to PNG without errors, the page is not blank, and the chart is drawn.

#![allow(clippy::print_stderr)]

use std::{path::Path, process::Command};

use core_model::Dataset;
use reporting::{Format, Period, ProgressReport, render_progress};

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing: scripts/test installs it (apt-get install chromium)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: chromium is not installed (apt-get install chromium). Under CI this test FAILS. !!!!!!!!\n"
        );
    }
    found
}

fn run(browser: &str, profile: &Path, args: &[String]) {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_html_report_prints_to_pdf_and_png_with_its_chart() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = ProgressReport::build(
        &Dataset::bundled(),
        "2007-11-30".parse().unwrap(),
        Period::new("2006-09-01".parse().unwrap(), "2007-11-30".parse().unwrap()).unwrap(),
    )
    .unwrap();
    let html = dir.path().join("report.html");
    std::fs::write(&html, render_progress(&report, Format::Html).unwrap().body).unwrap();
    let url = format!("file://{}", html.display());

    let pdf = dir.path().join("report.pdf");
    run(
        browser,
        &dir.path().join("profile-pdf"),
        &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into(), url.clone()],
    );
    let bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    assert!(bytes.len() > 50_000, "a PDF of {} bytes is too small for the report", bytes.len());

    // A screenshot of the first screen at A4 proportions, scrolled to the chart.
    let chart_top = html_with_chart_first(&html);
    let png = dir.path().join("chart.png");
    run(
        browser,
        &dir.path().join("profile-png"),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1000,1400".into(),
            format!("file://{}", chart_top.display()),
        ],
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let non_white = pixels.iter().filter(|p| p[0] < 240 || p[1] < 240 || p[2] < 240).count();
    assert!(non_white * 100 > pixels.len(), "the page is blank ({non_white} of {} pixels not white)", pixels.len());
    // The chart's bars are #4a78b5 and its line #c0392b.
    let near = |p: &[u8], rgb: (u8, u8, u8)| {
        p[0].abs_diff(rgb.0) < 12 && p[1].abs_diff(rgb.1) < 12 && p[2].abs_diff(rgb.2) < 12
    };
    let bars = pixels.iter().filter(|p| near(p, (0x4a, 0x78, 0xb5))).count();
    let line = pixels.iter().filter(|p| near(p, (0xc0, 0x39, 0x2b))).count();
    assert!(bars > 1000, "the chart's bars are not drawn ({bars} pixels)");
    assert!(line > 100, "the chart's cumulative line is not drawn ({line} pixels)");
}

/// The same report with the first chart moved to the top, so that a one-screen screenshot shows it.
fn html_with_chart_first(html: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(html).unwrap();
    let start = text.find("<svg").unwrap();
    let end = text[start..].find("</svg>").unwrap() + start + "</svg>".len();
    let chart = &text[start..end];
    let body = text.find("<body>").unwrap() + "<body>".len();
    let moved = format!("{}{chart}{}", &text[..body], &text[body..]);
    let path = html.with_file_name("chart-first.html");
    std::fs::write(&path, moved).unwrap();
    path
}
