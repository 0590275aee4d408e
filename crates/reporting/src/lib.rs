//! Progress reports and country briefs generated from the data, in Markdown, HTML and JSON (see the reporting issue).
