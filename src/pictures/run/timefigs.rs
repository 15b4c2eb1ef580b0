//! The run's time figures and its fault curve: the entry points the report calls, and the
//! axes and number formats the three figures share.
//!
//! [`header`] fills the page's title, facts, headline figures and notes; [`sections`] gives
//! the sections *Over time* (figures `timeline` and `fault-rate`) and *Faults against
//! frames* (figure `fault-curve`).

use crate::pictures::html::{Figure, Page, Section};
use crate::pictures::svg::{num, thousands, ticks, Anchor, Svg, GRID, INK};
use crate::pictures::trace::Trace;

use super::{curve, header as head, timeline};

/// The sections of the time figures and the fault curve.
pub fn sections(trace: &Trace) -> Vec<Section> {
    let mut figures: Vec<Figure> = vec![timeline::timeline_figure(trace)];
    figures.push(timeline::rate_figure(trace));
    let time = Section {
        id: "time".into(),
        title: "Over time".into(),
        intro: "What each process, the CPU and the disk did over the whole run, with the faults, \
                and the fault rate, the working set and each process's resident memory per \
                sample interval."
            .into(),
        figures,
    };
    vec![time, curve::section(trace)]
}

/// Fills the page's title, facts, headline figures and notes from the trace.
pub fn header(trace: &Trace, page: &mut Page) {
    head::fill(trace, page);
}

/// A count the short way for an axis: `950`, `12k`, `1.5M`, `3G`.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let (d, s) = if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{}{s}", num(v / d))
}

/// A fraction as a percentage with one decimal (`12.5%`); `0/0` is `0%`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// A linear scale from `[0, max]` onto `[from, from + len]` (upward when `len` < 0).
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// The value at the far end.
    pub max: f64,
    /// The pixel of 0.
    pub from: f64,
    /// The pixels from 0 to `max` (negative: upward).
    pub len: f64,
}

impl Scale {
    /// The pixel of `v`, clamped to the axis.
    pub fn at(&self, v: f64) -> f64 {
        let m = if self.max > 0.0 && self.max.is_finite() {
            self.max
        } else {
            1.0
        };
        let f = (v / m).clamp(0.0, 1.0);
        let f = if f.is_finite() { f } else { 0.0 };
        self.from + f * self.len
    }
}

/// Draws a horizontal axis at `y` for `x` with ticks labelled by `label`, and its title.
pub fn x_axis(svg: &mut Svg, x: Scale, y: f64, top: f64, title: &str, grid: bool) {
    svg.line(x.from, y, x.from + x.len, y, INK, 1.0, false);
    for t in ticks(x.max, 8) {
        let px = x.at(t);
        if grid && top < y {
            svg.line(px, top, px, y, GRID, 0.5, false);
        }
        svg.line(px, y, px, y + 4.0, INK, 1.0, false);
        svg.text(px, y + 15.0, &short(t), 10.0, Anchor::Middle, false);
    }
    svg.text(
        x.from + x.len / 2.0,
        y + 29.0,
        title,
        11.0,
        Anchor::Middle,
        false,
    );
}

/// Draws a vertical axis at `x` for `y` (an upward scale), with ticks, grid lines to
/// `right`, and its title above it.
pub fn y_axis(svg: &mut Svg, y: Scale, x: f64, right: f64, title: &str) {
    svg.line(x, y.from, x, y.from + y.len, INK, 1.0, false);
    for t in ticks(y.max, 4) {
        let py = y.at(t);
        svg.line(x, py, right, py, GRID, 0.5, false);
        svg.line(x - 4.0, py, x, py, INK, 1.0, false);
        svg.text(x - 6.0, py + 3.5, &short(t), 10.0, Anchor::End, false);
    }
    svg.text(x, y.from + y.len - 8.0, title, 11.0, Anchor::Start, true);
}

/// A legend of lines with markers: `(colour, marker shape, dashed, label)`; returns the y
/// below it.
pub fn line_legend(svg: &mut Svg, x: f64, y: f64, items: &[(&str, u8, bool, String)]) -> f64 {
    let (mut cx, mut cy) = (x, y);
    for (colour, shape, dashed, label) in items {
        let w = 40.0 + 7.0 * label.chars().count() as f64;
        if cx + w > svg.width() - 4.0 && cx > x {
            cx = x;
            cy += 18.0;
        }
        svg.line(cx, cy + 6.0, cx + 24.0, cy + 6.0, colour, 2.0, *dashed);
        svg.marker(cx + 12.0, cy + 6.0, 3.5, *shape, colour, None);
        svg.text(cx + 29.0, cy + 10.0, label, 11.0, Anchor::Start, false);
        cx += w;
    }
    cy + 18.0
}

/// A cycle range in words for a tooltip.
pub fn cycles(from: u64, to: u64) -> String {
    format!(
        "cycles {}–{} ({} cycles)",
        thousands(from),
        thousands(to),
        thousands(to.saturating_sub(from))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pictures::trace::parse;

    #[test]
    fn the_sections_and_the_header() {
        let text = r#"{"cycle":0,"event":"machine","version":1,"programs":["a"],"scheme":"vm-paging","policy":"fifo","page_size":4096,"user_base":"0x80000000","user_bytes":16384,"frames":3,"clock_hz":1000000,"timeline_interval":10}
{"cycle":0,"event":"spawn","pid":1,"name":"a"}
{"cycle":1,"event":"switch","to":1}
{"cycle":2,"event":"refs","pid":1,"vpns":[1,2,3,4,1,2,5,1,2,3,4,5]}
{"cycle":3,"event":"fault","pid":1,"va":"0x1000","access":"load","kind":"major"}
{"cycle":50,"event":"sample","instret":30,"faults":1,"major":1,"idle":0,"kernel":20,"working_set":3,"procs":[{"pid":1,"cycles":50,"instret":30,"resident":12288}]}
{"cycle":60,"event":"exit","pid":1,"code":0}
{"cycle":60,"event":"end","status":0,"instret":35,"reason":"all processes ended"}"#;
        let t = parse("t", text).unwrap();
        let mut page = Page::default();
        header(&t, &mut page);
        page.sections = sections(&t);
        let ids: Vec<&str> = page.figures().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["timeline", "fault-rate", "fault-curve"]);
        for f in page.figures() {
            roxmltree::Document::parse(f.last().unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.id));
            assert!(!f.caption.is_empty() && !f.tables.is_empty());
        }
        let html = page.render();
        assert!(html.contains("Belady (fifo): 4 frames"));
        assert!(page
            .notes
            .iter()
            .any(|n| n.contains("FIFO and Clock replayed")));
        // The same trace gives the same bytes.
        let mut again = Page::default();
        header(&t, &mut again);
        again.sections = sections(&t);
        assert_eq!(again.render(), html);
    }

    #[test]
    fn formats() {
        assert_eq!(short(950.0), "950");
        assert_eq!(short(12_000.0), "12k");
        assert_eq!(short(1_500_000.0), "1.5M");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(1, 0), "0%");
        let s = Scale {
            max: 0.0,
            from: 10.0,
            len: 100.0,
        };
        assert_eq!(s.at(5.0), 110.0);
        let s = Scale {
            max: 10.0,
            from: 100.0,
            len: -50.0,
        };
        assert_eq!(s.at(5.0), 75.0);
        assert_eq!(s.at(f64::NAN), 100.0);
    }
}
