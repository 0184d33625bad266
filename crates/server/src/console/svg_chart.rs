//! Charts drawn on the server as inline SVG: stacked daily bars, horizontal
//! bars, and rate bars against a threshold line. Colours come from the
//! stylesheet (classes, no inline style), every chart has a `<title>` and
//! the page shows the same numbers in a table next to it.

use maud::{html, Markup};

/// The wide chart's width (user units; the SVG scales to its box).
const W: f64 = 900.0;
const H: f64 = 240.0;
const PAD_L: f64 = 80.0;
/// Bar lists sit in narrower columns: their own width and label gutter.
const NW: f64 = 400.0;
const LABEL_W: f64 = 120.0;
const PAD_B: f64 = 28.0;
const PAD_T: f64 = 10.0;

/// One stacked bar: a label (a day) and its parts, one per series.
pub struct Stack {
    pub label: String,
    pub parts: Vec<f64>,
}

/// Stacked vertical bars; `series` names the parts (and their CSS class
/// `s0`, `s1`, …); `fmt` writes an axis value.
pub fn stacked_bars(
    title: &str,
    series: &[&str],
    bars: &[Stack],
    fmt: fn(f64) -> String,
) -> Markup {
    let max = bars
        .iter()
        .map(|b| b.parts.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - PAD_T;
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(title) {
                title { (title) }
                (axis(max, plot_h, fmt))
                @for (i, b) in bars.iter().enumerate() {
                    @let x = PAD_L + i as f64 * slot + (slot - bar_w) / 2.0;
                    @let mut y = PAD_T + plot_h;
                    @for (s, v) in b.parts.iter().enumerate() {
                        @let h = v / max * plot_h;
                        @let top = { y -= h; y };
                        @if h > 0.0 {
                            rect class=(format!("s{s}")) x=(r(x)) y=(r(top)) width=(r(bar_w)) height=(r(h)) {
                                title { (b.label) " " (series.get(s).unwrap_or(&"")) ": " (fmt(*v)) }
                            }
                        }
                    }
                    @if bars.len() <= 12 || i % (bars.len() / 6).max(1) == 0 {
                        text.tick x=(r(x + bar_w / 2.0)) y=(r(H - 8.0)) text-anchor="middle" { (b.label) }
                    }
                }
            }
            figcaption {
                (title) " — "
                @for (s, name) in series.iter().enumerate() {
                    span class=(format!("key s{s}")) { (name) } " "
                }
            }
        }
    }
}

/// Horizontal bars, one per `(label, value)`.
pub fn hbars(title: &str, rows: &[(String, f64)], fmt: fn(f64) -> String) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let row_h = 22.0;
    let h = PAD_T * 2.0 + row_h * rows.len().max(1) as f64;
    let plot_w = NW - LABEL_W - 50.0;
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {NW} {h}")) role="img" aria-label=(title) {
                title { (title) }
                @for (i, (label, v)) in rows.iter().enumerate() {
                    @let y = PAD_T + i as f64 * row_h;
                    text.tick x=(r(LABEL_W - 6.0)) y=(r(y + 15.0)) text-anchor="end" { (label) }
                    rect.s0 x=(r(LABEL_W)) y=(r(y + 3.0)) width=(r(v / max * plot_w)) height="16" {
                        title { (label) ": " (fmt(*v)) }
                    }
                    text.tick x=(r(LABEL_W + v / max * plot_w + 4.0)) y=(r(y + 15.0)) { (fmt(*v)) }
                }
                @if rows.is_empty() { text.tick x=(r(LABEL_W)) y="24" { "none" } }
            }
            figcaption { (title) }
        }
    }
}

/// One bar per `(label, rate)` (rates 0.0–1.0) against a threshold line
/// (NACHA's 0.5 %, 3 % or 15 %); bars over it get class `over`.
pub fn rates(title: &str, threshold: f64, rows: &[(String, f64)]) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(threshold * 1.5, f64::max);
    let row_h = 22.0;
    let h = PAD_T * 2.0 + 16.0 + row_h * rows.len().max(1) as f64;
    let plot_w = NW - LABEL_W - 50.0;
    let tx = LABEL_W + threshold / max * plot_w;
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {NW} {h}")) role="img" aria-label=(title) {
                title { (title) }
                @for (i, (label, v)) in rows.iter().enumerate() {
                    @let y = PAD_T + 16.0 + i as f64 * row_h;
                    text.tick x=(r(LABEL_W - 6.0)) y=(r(y + 15.0)) text-anchor="end" { (short(label)) }
                    rect class=(if *v > threshold { "over" } else { "s0" }) x=(r(LABEL_W)) y=(r(y + 3.0))
                        width=(r(v / max * plot_w)) height="16" {
                        title { (label) ": " (super::format::percent(*v)) }
                    }
                    text.tick x=(r(LABEL_W + v / max * plot_w + 4.0)) y=(r(y + 15.0)) { (super::format::percent(*v)) }
                }
                line.threshold x1=(r(tx)) x2=(r(tx)) y1=(r(PAD_T + 12.0)) y2=(r(h - PAD_T)) {}
                text.tick x=(r(tx)) y=(r(PAD_T + 8.0)) text-anchor="middle" {
                    "NACHA " (super::format::percent(threshold))
                }
            }
            figcaption { (title) }
        }
    }
}

fn axis(max: f64, plot_h: f64, fmt: fn(f64) -> String) -> Markup {
    html! {
        @for k in 0..=4 {
            @let v = max * k as f64 / 4.0;
            @let y = PAD_T + plot_h - plot_h * k as f64 / 4.0;
            line.grid x1=(r(PAD_L)) x2=(r(W - 10.0)) y1=(r(y)) y2=(r(y)) {}
            text.tick x=(r(PAD_L - 6.0)) y=(r(y + 4.0)) text-anchor="end" { (fmt(v)) }
        }
    }
}

/// A label cut to fit the gutter (the full text is in the bar's title and the table).
fn short(label: &str) -> String {
    if label.chars().count() <= 18 {
        return label.to_owned();
    }
    let cut: String = label.chars().take(17).collect();
    format!("{cut}…")
}

fn r(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_stack() {
        let svg = stacked_bars(
            "t",
            &["ACH", "Card"],
            &[
                Stack {
                    label: "a".into(),
                    parts: vec![50.0, 50.0],
                },
                Stack {
                    label: "b".into(),
                    parts: vec![25.0, 0.0],
                },
            ],
            |v| format!("{v}"),
        )
        .into_string();
        // The tallest stack fills the plot (202 units); the other is a quarter of it.
        assert!(svg.contains(r#"height="101.0""#), "{svg}");
        assert!(svg.contains(r#"height="50.5""#), "{svg}");
    }

    #[test]
    fn a_rate_over_its_threshold_is_marked() {
        let svg = rates("t", 0.005, &[("A".into(), 0.01), ("B".into(), 0.001)]).into_string();
        assert_eq!(svg.matches(r#"class="over""#).count(), 1);
        assert!(svg.contains("NACHA 0.50%"));
    }
}
