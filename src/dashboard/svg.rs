//! Line charts as inline SVG, drawn by Railyard (no script, no library): days on the x axis,
//! counts on the y axis. Each chart is decorative for assistive technology (`aria-hidden`);
//! the page puts the same numbers in a table next to it.

use crate::date::Day;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// One line: a CSS class (its colour) and a value per x.
pub struct Series<'a> {
    pub class: &'a str,
    pub values: Vec<usize>,
}

/// A chart of `series` over `days` (ascending, one per point). `until` extends the x axis
/// (a burn-down's activation day), drawn as a dashed vertical marker.
pub fn line_chart(days: &[Day], series: &[Series], until: Option<Day>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" aria-hidden="true" focusable="false">"#
    );
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        s.push_str(r#"<text x="20" y="100" class="axis">no recorded run</text></svg>"#);
        return s;
    };
    let end = until.map_or(last, |u| u.max(last));
    let span = first.days_until(end).max(1) as f64;
    let max = series
        .iter()
        .flat_map(|x| x.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |d: Day| LEFT + (W - LEFT - RIGHT) * first.days_until(d) as f64 / span;
    let y = |v: usize| TOP + (H - TOP - BOTTOM) * (1.0 - v as f64 / max);
    // Axes, with the largest value and the first and last days as labels.
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}"/><line class="axis" x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}"/><text class="axis" x="{tx}" y="{ty}" text-anchor="end">{max}</text><text class="axis" x="{tx}" y="{b}" text-anchor="end">0</text><text class="axis" x="{LEFT}" y="{lb}">{first}</text><text class="axis" x="{r}" y="{lb}" text-anchor="end">{end}</text>"#,
        b = H - BOTTOM,
        r = W - RIGHT,
        tx = LEFT - 4.0,
        ty = TOP + 8.0,
        lb = H - 8.0,
    );
    if let Some(u) = until {
        let _ = write!(
            s,
            r#"<line class="marker" x1="{ux:.1}" y1="{TOP}" x2="{ux:.1}" y2="{b}"/>"#,
            ux = x(u),
            b = H - BOTTOM
        );
    }
    for line in series {
        let mut points = String::with_capacity(line.values.len() * 12);
        for (d, v) in days.iter().zip(&line.values) {
            let _ = write!(points, "{:.1},{:.1} ", x(*d), y(*v));
        }
        let _ = write!(
            s,
            r#"<polyline class="{}" fill="none" points="{}"/>"#,
            line.class,
            points.trim_end()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_spans_its_days_and_the_activation_day() {
        let d = |s: &str| Day::parse(s).unwrap();
        let svg = line_chart(
            &[d("2026-11-01"), d("2026-11-11")],
            &[Series {
                class: "open",
                values: vec![4, 2],
            }],
            Some(d("2026-11-21")),
        );
        // The first point at the left edge, the second half-way to the activation day.
        assert!(svg.contains(r#"points="44.0,12.0 336.0,92.0""#), "{svg}");
        assert!(svg.contains("2026-11-21") && svg.contains(">4<"), "{svg}");
        assert!(line_chart(&[], &[], None).contains("no recorded run"));
    }
}
