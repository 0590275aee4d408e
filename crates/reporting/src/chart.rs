//! The chart of ratifications per year: bars for the consents added each year and a line for the running
//! total, drawn as an SVG document with the `svg` crate.

use svg::{
    Document,
    node::element::{Circle, Line, Polyline, Rectangle, Text, Title},
};

use crate::model::YearLine;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 40.0;

/// The chart, as an SVG document (without XML declaration, to be inlined in HTML).
pub(crate) fn ratifications(title: &str, years: &[YearLine]) -> String {
    let max = years.iter().map(|y| y.total_value.max(y.added_value)).max().unwrap_or(0).max(1) as f64;
    // A round step for the axis: 1, 2, 5, 10, 20...
    let step =
        [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0].into_iter().find(|s| max / s <= 8.0).unwrap_or(1000.0);
    let top_value = (max / step).ceil() * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y_of = |v: f64| TOP + plot_h - v / top_value * plot_h;
    let slot = plot_w / years.len().max(1) as f64;
    let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);

    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, HEIGHT))
        .set("width", WIDTH)
        .set("height", HEIGHT)
        .set("role", "img")
        .set("class", "chart")
        .set("font-family", "sans-serif")
        .set("font-size", 11)
        .add(Title::new(title))
        .add(Text::new(title).set("x", LEFT).set("y", 18).set("font-size", 13).set("font-weight", "bold"));
    let mut v = 0.0;
    while v <= top_value {
        doc = doc
            .add(
                Line::new()
                    .set("x1", LEFT)
                    .set("x2", WIDTH - RIGHT)
                    .set("y1", y_of(v))
                    .set("y2", y_of(v))
                    .set("stroke", "#ddd"),
            )
            .add(Text::new(format!("{v}")).set("x", LEFT - 6.0).set("y", y_of(v) + 4.0).set("text-anchor", "end"));
        v += step;
    }
    let mut points = Vec::new();
    for (i, y) in years.iter().enumerate() {
        let bar_w = slot * 0.5;
        let h = y_of(0.0) - y_of(y.added_value as f64);
        doc = doc
            .add(
                Rectangle::new()
                    .set("class", "bar")
                    .set("x", x_mid(i) - bar_w / 2.0)
                    .set("y", y_of(y.added_value as f64))
                    .set("width", bar_w)
                    .set("height", h)
                    .set("fill", "#4a78b5")
                    .add(Title::new(format!("{}: {} added", y.year, y.added))),
            )
            .add(
                Text::new(y.added.clone())
                    .set("x", x_mid(i))
                    .set("y", y_of(y.added_value as f64) - 4.0)
                    .set("text-anchor", "middle"),
            )
            .add(
                Text::new(y.year.to_string())
                    .set("x", x_mid(i))
                    .set("y", HEIGHT - BOTTOM + 16.0)
                    .set("text-anchor", "middle"),
            );
        points.push(format!("{:.1},{:.1}", x_mid(i), y_of(y.total_value as f64)));
    }
    doc = doc.add(
        Polyline::new()
            .set("class", "cumulative")
            .set("points", points.join(" "))
            .set("fill", "none")
            .set("stroke", "#c0392b")
            .set("stroke-width", 2),
    );
    for (i, y) in years.iter().enumerate() {
        doc = doc.add(
            Circle::new()
                .set("cx", x_mid(i))
                .set("cy", y_of(y.total_value as f64))
                .set("r", 3)
                .set("fill", "#c0392b")
                .add(Title::new(format!("{}: {} in total", y.year, y.total))),
        );
    }
    let legend_y = HEIGHT - 8.0;
    doc = doc
        .add(
            Rectangle::new()
                .set("x", LEFT)
                .set("y", legend_y - 9.0)
                .set("width", 10)
                .set("height", 10)
                .set("fill", "#4a78b5"),
        )
        .add(Text::new("added in the year").set("x", LEFT + 14.0).set("y", legend_y))
        .add(
            Line::new()
                .set("x1", LEFT + 130.0)
                .set("x2", LEFT + 150.0)
                .set("y1", legend_y - 4.0)
                .set("y2", legend_y - 4.0)
                .set("stroke", "#c0392b")
                .set("stroke-width", 2),
        )
        .add(Text::new("running total").set("x", LEFT + 154.0).set("y", legend_y));
    doc.to_string()
}
