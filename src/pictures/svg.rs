//! A small SVG writer: shapes, text and tooltips, with a palette and fill patterns that read
//! in print and for colour-blind readers.
//!
//! Colours are the Okabe–Ito palette (distinguishable under the common colour-vision
//! deficiencies); where a colour alone would carry meaning (which area of a process a frame
//! holds, which kind of frame) a fill pattern or a label says it too. Every figure is one
//! [`Svg`]; [`Svg::finish`] gives a standalone document (it can be written to a `.svg` file
//! as it is, or placed inline in the HTML report: its pattern ids carry the figure's prefix,
//! so several figures on one page never share an id).

use std::collections::BTreeSet;
use std::fmt::Write;

/// The Okabe–Ito colours, in the order processes take them (black is left for text).
pub const PROCESS_COLOURS: [&str; 7] = [
    "#0072B2", // blue
    "#E69F00", // orange
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#56B4E9", // sky blue
    "#D55E00", // vermillion
    "#F0E442", // yellow
];

/// The colour of process `pid` (processes count from 1).
pub fn process_colour(pid: u32) -> &'static str {
    PROCESS_COLOURS[(pid.saturating_sub(1) as usize) % PROCESS_COLOURS.len()]
}

/// Free memory.
pub const FREE: &str = "#FFFFFF";
/// The kernel's memory.
pub const KERNEL: &str = "#404040";
/// Page-cache pages.
pub const CACHE: &str = "#BBBBBB";
/// Text, axes, outlines.
pub const INK: &str = "#222222";
/// Grid lines and faint outlines.
pub const GRID: &str = "#CCCCCC";

/// A fill pattern, drawn over a colour, naming a kind without relying on the colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pattern {
    /// Diagonal lines (`/`): text.
    Diagonal,
    /// Dots: data and bss.
    Dots,
    /// Horizontal lines: the heap.
    Horizontal,
    /// Vertical lines: the stack.
    Vertical,
    /// Cross-hatching: anonymous mappings.
    Cross,
    /// Back-diagonal lines (`\`): file mappings.
    BackDiagonal,
    /// A small grid: page tables.
    Grid,
}

impl Pattern {
    /// Every pattern.
    pub const ALL: [Pattern; 7] = [
        Pattern::Diagonal,
        Pattern::Dots,
        Pattern::Horizontal,
        Pattern::Vertical,
        Pattern::Cross,
        Pattern::BackDiagonal,
        Pattern::Grid,
    ];

    /// Its id suffix.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Diagonal => "diag",
            Pattern::Dots => "dots",
            Pattern::Horizontal => "horiz",
            Pattern::Vertical => "vert",
            Pattern::Cross => "cross",
            Pattern::BackDiagonal => "bdiag",
            Pattern::Grid => "grid",
        }
    }

    /// The pattern for an area kind (`text`, `data`, `heap`, `stack`, `anon`/`mmap`,
    /// `file`/`shared-file`), if it has one.
    pub fn for_area(kind: &str) -> Option<Pattern> {
        Some(match kind {
            "text" => Pattern::Diagonal,
            "data" | "bss" => Pattern::Dots,
            "heap" => Pattern::Horizontal,
            "stack" => Pattern::Vertical,
            "anon" | "mmap" | "shared" => Pattern::Cross,
            "file" | "shared-file" => Pattern::BackDiagonal,
            "page-table" => Pattern::Grid,
            _ => return None,
        })
    }

    fn body(self) -> &'static str {
        match self {
            Pattern::Diagonal => {
                r##"<path d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2" stroke="#000" stroke-opacity="0.45" stroke-width="1"/>"##
            }
            Pattern::BackDiagonal => {
                r##"<path d="M-1,5 l2,2 M0,0 l6,6 M5,-1 l2,2" stroke="#000" stroke-opacity="0.45" stroke-width="1"/>"##
            }
            Pattern::Dots => r##"<circle cx="3" cy="3" r="1.1" fill="#000" fill-opacity="0.5"/>"##,
            Pattern::Horizontal => {
                r##"<path d="M0,3 h6" stroke="#000" stroke-opacity="0.45" stroke-width="1"/>"##
            }
            Pattern::Vertical => {
                r##"<path d="M3,0 v6" stroke="#000" stroke-opacity="0.45" stroke-width="1"/>"##
            }
            Pattern::Cross => {
                r##"<path d="M0,3 h6 M3,0 v6" stroke="#000" stroke-opacity="0.35" stroke-width="1"/>"##
            }
            Pattern::Grid => {
                r##"<path d="M0,0 h6 v6" fill="none" stroke="#000" stroke-opacity="0.6" stroke-width="1"/>"##
            }
        }
    }
}

/// How text is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Left-aligned at x.
    Start,
    /// Centred on x.
    Middle,
    /// Right-aligned at x.
    End,
}

/// Escapes text for XML (content and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// A number as SVG wants it: at most two decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let r = (v * 100.0).round() / 100.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        let s = format!("{r:.2}");
        s.trim_end_matches('0').to_string()
    }
}

/// One SVG figure under construction.
#[derive(Clone, Debug)]
pub struct Svg {
    prefix: String,
    width: f64,
    height: f64,
    title: String,
    body: String,
    patterns: BTreeSet<Pattern>,
}

impl Svg {
    /// A figure `width` × `height` (user units = CSS pixels) titled `title`; `prefix` makes
    /// its ids unique on a page (letters, digits and `-` only).
    pub fn new(prefix: &str, width: f64, height: f64, title: &str) -> Svg {
        let prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Svg {
            prefix,
            width,
            height,
            title: title.to_string(),
            body: String::new(),
            patterns: BTreeSet::new(),
        }
    }

    /// The figure's width.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The figure's height.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// Changes the height (a figure that learns its size while drawing).
    pub fn set_height(&mut self, h: f64) {
        self.height = h;
    }

    /// The fill that draws `p` (over whatever is under it).
    pub fn pattern(&mut self, p: Pattern) -> String {
        self.patterns.insert(p);
        format!("url(#{}-{})", self.prefix, p.name())
    }

    /// A rectangle filled `fill` with an outline `stroke` (or none), with a tooltip.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &str,
        stroke: Option<&str>,
        tip: Option<&str>,
    ) {
        let _ = write!(
            self.body,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{}""##,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            esc(fill)
        );
        if let Some(s) = stroke {
            let _ = write!(self.body, r##" stroke="{}" stroke-width="0.75""##, esc(s));
        }
        self.close_with_tip("rect", tip);
    }

    /// A rectangle of colour `fill` with pattern `p` over it (two shapes, one tooltip).
    #[allow(clippy::too_many_arguments)]
    pub fn patterned(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &str,
        p: Option<Pattern>,
        tip: Option<&str>,
    ) {
        self.open_group(None, tip);
        self.rect(x, y, w, h, fill, Some(INK), None);
        if let Some(p) = p {
            let f = self.pattern(p);
            self.rect(x, y, w, h, &f, None, None);
        }
        self.close_group();
    }

    /// A line.
    pub fn line(
        &mut self,
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: &str,
        width: f64,
        dashed: bool,
    ) {
        let _ = write!(
            self.body,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>"##,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            esc(stroke),
            num(width),
            if dashed {
                r##" stroke-dasharray="4 3""##
            } else {
                ""
            }
        );
    }

    /// A polyline through `points`.
    pub fn polyline(
        &mut self,
        points: &[(f64, f64)],
        stroke: &str,
        width: f64,
        dashed: bool,
        tip: Option<&str>,
    ) {
        if points.is_empty() {
            return;
        }
        let mut pts = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                pts.push(' ');
            }
            let _ = write!(pts, "{},{}", num(*x), num(*y));
        }
        let _ = write!(
            self.body,
            r##"<polyline points="{pts}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round"{}"##,
            esc(stroke),
            num(width),
            if dashed {
                r##" stroke-dasharray="5 3""##
            } else {
                ""
            }
        );
        self.close_with_tip("polyline", tip);
    }

    /// A marker: a circle (`shape` 0), a square (1), a triangle (2) or a diamond (3) of
    /// radius `r` — shapes, so series differ without colour.
    #[allow(clippy::too_many_arguments)]
    pub fn marker(&mut self, x: f64, y: f64, r: f64, shape: u8, fill: &str, tip: Option<&str>) {
        let (tag, d) = match shape % 4 {
            0 => (
                "circle",
                format!(r##"cx="{}" cy="{}" r="{}""##, num(x), num(y), num(r)),
            ),
            1 => (
                "rect",
                format!(
                    r##"x="{}" y="{}" width="{}" height="{}""##,
                    num(x - r),
                    num(y - r),
                    num(2.0 * r),
                    num(2.0 * r)
                ),
            ),
            2 => (
                "path",
                format!(
                    r##"d="M{},{} L{},{} L{},{} Z""##,
                    num(x),
                    num(y - r * 1.2),
                    num(x + r * 1.1),
                    num(y + r * 0.8),
                    num(x - r * 1.1),
                    num(y + r * 0.8)
                ),
            ),
            _ => (
                "path",
                format!(
                    r##"d="M{},{} L{},{} L{},{} L{},{} Z""##,
                    num(x),
                    num(y - r * 1.3),
                    num(x + r * 1.3),
                    num(y),
                    num(x),
                    num(y + r * 1.3),
                    num(x - r * 1.3),
                    num(y)
                ),
            ),
        };
        let _ = write!(
            self.body,
            r##"<{tag} {d} fill="{}" stroke="{INK}" stroke-width="0.75""##,
            esc(fill)
        );
        self.close_with_tip(tag, tip);
    }

    /// Text at (x, y) (the baseline), `size` pixels, bold or not.
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, bold: bool) {
        self.text_coloured(x, y, s, size, anchor, bold, INK);
    }

    /// [`Svg::text`] in a colour.
    #[allow(clippy::too_many_arguments)]
    pub fn text_coloured(
        &mut self,
        x: f64,
        y: f64,
        s: &str,
        size: f64,
        anchor: Anchor,
        bold: bool,
        fill: &str,
    ) {
        let a = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = write!(
            self.body,
            r##"<text x="{}" y="{}" font-size="{}" text-anchor="{a}"{} fill="{}">{}</text>"##,
            num(x),
            num(y),
            num(size),
            if bold { r##" font-weight="bold""## } else { "" },
            esc(fill),
            esc(s)
        );
    }

    /// Opens a group (with a class for the page's script or styles, and a tooltip).
    pub fn open_group(&mut self, class: Option<&str>, tip: Option<&str>) {
        self.body.push_str("<g");
        if let Some(c) = class {
            let _ = write!(self.body, r##" class="{}""##, esc(c));
        }
        self.body.push('>');
        if let Some(t) = tip {
            let _ = write!(self.body, "<title>{}</title>", esc(t));
        }
    }

    /// Closes the innermost group.
    pub fn close_group(&mut self) {
        self.body.push_str("</g>");
    }

    /// Draws a legend row of `(fill, pattern, label)` swatches from (x, y); returns the y
    /// below it. Wraps at the figure's width.
    pub fn legend(&mut self, x: f64, y: f64, items: &[(String, Option<Pattern>, String)]) -> f64 {
        let (mut cx, mut cy) = (x, y);
        for (fill, p, label) in items {
            let w = 22.0 + 7.0 * label.chars().count() as f64 + 14.0;
            if cx + w > self.width - 4.0 && cx > x {
                cx = x;
                cy += 18.0;
            }
            self.patterned(cx, cy, 14.0, 12.0, fill, *p, None);
            self.text(cx + 19.0, cy + 10.5, label, 11.0, Anchor::Start, false);
            cx += w;
        }
        cy + 18.0
    }

    fn close_with_tip(&mut self, tag: &str, tip: Option<&str>) {
        match tip {
            Some(t) => {
                let _ = write!(self.body, "><title>{}</title></{tag}>", esc(t));
            }
            None => self.body.push_str("/>"),
        }
    }

    /// The finished document: `<svg>` with its title, the patterns it uses and its shapes.
    pub fn finish(self) -> String {
        let mut o = String::with_capacity(self.body.len() + 1024);
        let _ = write!(
            o,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" role="img" aria-labelledby="{p}-title"><title id="{p}-title">{t}</title>"##,
            w = num(self.width),
            h = num(self.height),
            p = self.prefix,
            t = esc(&self.title)
        );
        if !self.patterns.is_empty() {
            o.push_str("<defs>");
            for p in &self.patterns {
                let _ = write!(
                    o,
                    r##"<pattern id="{}-{}" width="6" height="6" patternUnits="userSpaceOnUse">{}</pattern>"##,
                    self.prefix,
                    p.name(),
                    p.body()
                );
            }
            o.push_str("</defs>");
        }
        let _ = write!(
            o,
            r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
            num(self.width),
            num(self.height)
        );
        o.push_str(&self.body);
        o.push_str("</svg>");
        o
    }
}

/// Round axis ticks for `[0, max]`: about `n` of them at 1, 2 or 5 times a power of ten.
pub fn ticks(max: f64, n: usize) -> Vec<f64> {
    if max.is_nan() || max <= 0.0 || n == 0 {
        return vec![0.0];
    }
    let raw = max / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = Vec::new();
    let mut t = 0.0;
    while t <= max * (1.0 + 1e-9) && v.len() < 100 {
        v.push(t);
        t += step;
    }
    v
}

/// A number with thousands separators (`1,234,567`).
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A byte count the short way (`4 KiB`, `1.5 MiB`).
pub fn bytes(v: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut i = 0;
    while x >= 1024.0 && i + 1 < U.len() {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v} B")
    } else if x == x.trunc() {
        format!("{} {}", x as u64, U[i])
    } else {
        format!("{:.1} {}", x, U[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_escapes() {
        for (v, s) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (2.345, "2.35"),
            (f64::NAN, "0"),
            (-3.0, "-3"),
        ] {
            assert_eq!(num(v), s);
        }
        assert_eq!(esc("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;?");
        assert_eq!(ticks(10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.0, 5), vec![0.0]);
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(100), "100 B");
    }

    #[test]
    fn document() {
        let mut s = Svg::new("fig 1", 100.0, 50.0, "A <title>");
        s.patterned(
            0.0,
            0.0,
            10.0,
            10.0,
            "#fff",
            Some(Pattern::Dots),
            Some("tip"),
        );
        s.text(1.0, 2.0, "x", 10.0, Anchor::Middle, true);
        let d = s.finish();
        assert!(d.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(d.contains("id=\"fig-1-dots\""));
        assert!(d.contains("url(#fig-1-dots)"));
        assert!(d.contains("A &lt;title&gt;"));
    }
}
