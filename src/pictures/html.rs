//! The report page: one self-contained HTML file — inline SVG figures, their numbers as
//! tables with CSV downloads (data URLs), and a little plain JavaScript for the moment
//! slider. Nothing is fetched from the network; the file opens from disk in any browser.
//!
//! The script marks the page when it has run (`data-ready` on `<body>`: the number of
//! figures that rendered with a non-empty box, and `data-ms`: milliseconds from the start of
//! the navigation until then) and records any error (`data-error`), which the browser tests
//! read.

use super::svg::esc;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A table of numbers behind a figure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// A file-name-like name (`frames`, `fault-curve`).
    pub name: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table named `name` with `columns`.
    pub fn new(name: &str, columns: &[&str]) -> Table {
        Table {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as CSV (RFC 4180 quoting).
    pub fn csv(&self) -> String {
        fn cell(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        }
        let mut o = String::new();
        let line = |o: &mut String, cells: &[String]| {
            let v: Vec<String> = cells.iter().map(|c| cell(c)).collect();
            o.push_str(&v.join(","));
            o.push_str("\r\n");
        };
        line(&mut o, &self.columns);
        for r in &self.rows {
            line(&mut o, r);
        }
        o
    }
}

/// A figure: one SVG, or one per moment of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figure {
    /// Its id on the page and the stem of its `--svg` file (`memory`, `space-1`).
    pub id: String,
    /// Its caption: what it shows and how to read it.
    pub caption: String,
    /// `(first moment, svg)`: the drawing shown from that moment of the slider on, until the
    /// next one's; a figure that does not change over the run has one, at moment 0.
    pub frames: Vec<(usize, String)>,
    /// The numbers behind it.
    pub tables: Vec<Table>,
}

impl Figure {
    /// A figure with a single drawing.
    pub fn fixed(id: &str, caption: &str, svg: String) -> Figure {
        Figure {
            id: id.to_string(),
            caption: caption.to_string(),
            frames: vec![(0, svg)],
            tables: Vec::new(),
        }
    }

    /// The drawing at the last moment.
    pub fn last(&self) -> Option<&str> {
        self.frames.last().map(|(_, s)| s.as_str())
    }

    /// The index in `frames` of the drawing shown at moment `m`.
    pub fn frame_at(&self, m: usize) -> usize {
        self.frames
            .iter()
            .rposition(|(from, _)| *from <= m)
            .unwrap_or(0)
    }

    /// The drawing shown at moment `m` (the one `--svg` writes for the page's first moment).
    pub fn at(&self, m: usize) -> Option<&str> {
        self.frames.get(self.frame_at(m)).map(|(_, s)| s.as_str())
    }
}

/// A section of the page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// Its id (an anchor).
    pub id: String,
    /// Its heading.
    pub title: String,
    /// A paragraph under the heading (plain text).
    pub intro: String,
    /// Its figures.
    pub figures: Vec<Figure>,
}

/// A moment of the run the slider can stop at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moment {
    /// Its cycle.
    pub cycle: u64,
    /// What happened then, in words.
    pub label: String,
}

/// The whole page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The title.
    pub title: String,
    /// The header's facts: `(name, value)`, shown as a definition list.
    pub facts: Vec<(String, String)>,
    /// Headline figures: `(name, value)`, shown large.
    pub headline: Vec<(String, String)>,
    /// Notes under the header (how the page was sampled, what is left out).
    pub notes: Vec<String>,
    /// The moments of the slider (none: the page has no slider).
    pub moments: Vec<Moment>,
    /// The moment the page opens at (and the one `--svg` draws); past the last: the last.
    pub current: usize,
    /// The sections.
    pub sections: Vec<Section>,
}

const STYLE: &str = r#"
body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:0 auto;max-width:1500px;padding:12px 24px;color:#222;background:#fff}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:.5em 0}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
.headline{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0}
.headline div{border:1px solid #ccc;border-radius:4px;padding:4px 10px}
.headline b{display:block;font-size:1.3em}
.note{color:#555;font-size:.9em}
#moment{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:6px 0;z-index:2}
#moment input{width:60%;vertical-align:middle}
figure{margin:1em 0}figcaption{font-size:.9em;color:#333;max-width:1100px;margin:.3em 0}
figure svg{max-width:100%;height:auto}
details{margin:.2em 0 .8em}summary{cursor:pointer;font-size:.9em;color:#0072B2}
table{border-collapse:collapse;font-size:.8em;margin:.3em 0}td,th{border:1px solid #ddd;padding:1px 6px;text-align:right}
th{background:#f3f3f3}
nav a{margin-right:1em}
"#;

const SCRIPT: &str = r#"
(function(){
  var body=document.body;
  window.addEventListener('error',function(e){body.setAttribute('data-error',String(e.message||e));});
  var slider=document.getElementById('moment-slider');
  var label=document.getElementById('moment-label');
  var moments=[];
  var data=document.getElementById('moments');
  if(data){moments=JSON.parse(data.textContent);}
  function show(m){
    var figs=document.querySelectorAll('[data-frames]');
    for(var i=0;i<figs.length;i++){
      var kids=figs[i].querySelectorAll(':scope > .frame');
      var pick=0;
      for(var j=0;j<kids.length;j++){if(Number(kids[j].getAttribute('data-from'))<=m){pick=j;}}
      for(var j=0;j<kids.length;j++){kids[j].hidden=(j!==pick);}
    }
    if(label&&moments.length){var x=moments[m];label.textContent='moment '+(m+1)+' of '+moments.length+' \u2014 cycle '+x[0].toLocaleString('en')+': '+x[1];}
  }
  if(slider){slider.addEventListener('input',function(){show(Number(slider.value));});show(Number(slider.value));}
  var n=0,svgs=document.querySelectorAll('figure svg');
  for(var i=0;i<svgs.length;i++){
    var s=svgs[i];if(s.closest('[hidden]'))continue;
    var b=s.getBBox();if(b.width>0&&b.height>0&&s.childElementCount>1){n++;}
  }
  body.setAttribute('data-ready',String(n));
  body.setAttribute('data-ms',String(Math.round(performance.now())));
})();
"#;

/// Percent-encodes `s` for a `data:` URL.
fn percent(s: &str) -> String {
    let mut o = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~ ,:;/()".contains(&b) {
            if b == b' ' {
                o.push_str("%20");
            } else {
                o.push(b as char);
            }
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// The largest table shown in full on the page; bigger ones are shown in part (their CSV is
/// always whole).
const SHOWN_ROWS: usize = 200;

fn table_html(o: &mut String, fig: &str, t: &Table) {
    let _ = write!(
        o,
        r#"<details><summary>numbers: {} ({} rows) — <a download="{}-{}.csv" href="data:text/csv;charset=utf-8,{}">CSV</a></summary><table><tr>"#,
        esc(&t.name),
        t.rows.len(),
        esc(fig),
        esc(&t.name),
        percent(&t.csv())
    );
    for c in &t.columns {
        let _ = write!(o, "<th>{}</th>", esc(c));
    }
    o.push_str("</tr>");
    for r in t.rows.iter().take(SHOWN_ROWS) {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");
    if t.rows.len() > SHOWN_ROWS {
        let _ = write!(
            o,
            r#"<p class="note">The first {SHOWN_ROWS} rows of {}; the CSV has them all.</p>"#,
            t.rows.len()
        );
    }
    o.push_str("</details>");
}

impl Page {
    /// The page as one HTML document.
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(1 << 20);
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><meta name=\"generator\" content=\"vmlab\"><title>{}</title><style>{STYLE}</style></head><body>",
            esc(&self.title)
        );
        let _ = write!(o, "<h1>{}</h1>", esc(&self.title));
        if !self.facts.is_empty() {
            o.push_str(r#"<dl class="facts">"#);
            for (k, v) in &self.facts {
                let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
            }
            o.push_str("</dl>");
        }
        if !self.headline.is_empty() {
            o.push_str(r#"<div class="headline">"#);
            for (k, v) in &self.headline {
                let _ = write!(o, "<div><b>{}</b>{}</div>", esc(v), esc(k));
            }
            o.push_str("</div>");
        }
        for n in &self.notes {
            let _ = write!(o, r#"<p class="note">{}</p>"#, esc(n));
        }
        if self.sections.len() > 1 {
            o.push_str("<nav>");
            for s in &self.sections {
                let _ = write!(o, "<a href=\"#{}\">{}</a>", esc(&s.id), esc(&s.title));
            }
            o.push_str("</nav>");
        }
        if !self.moments.is_empty() {
            let last = self.moments.len() - 1;
            let cur = self.current_moment();
            let _ = write!(
                o,
                r#"<div id="moment"><label for="moment-slider">Moment: </label><input id="moment-slider" type="range" min="0" max="{last}" value="{cur}"> <span id="moment-label"></span></div>"#
            );
            let list: Vec<(u64, &str)> = self
                .moments
                .iter()
                .map(|m| (m.cycle, m.label.as_str()))
                .collect();
            // `</` cannot appear inside a script element; JSON escapes nothing of that.
            let json = serde_json::to_string(&list)
                .unwrap_or_else(|_| "[]".into())
                .replace("</", "<\\/");
            let _ = write!(
                o,
                r#"<script type="application/json" id="moments">{json}</script>"#
            );
        }
        for s in &self.sections {
            let _ = write!(
                o,
                "<section id=\"{}\"><h2>{}</h2>",
                esc(&s.id),
                esc(&s.title)
            );
            if !s.intro.is_empty() {
                let _ = write!(o, "<p>{}</p>", esc(&s.intro));
            }
            for f in &s.figures {
                let _ = write!(o, "<figure id=\"fig-{}\">", esc(&f.id));
                if f.frames.len() > 1 {
                    o.push_str("<div data-frames>");
                    let shown = f.frame_at(self.current_moment());
                    for (i, (from, svg)) in f.frames.iter().enumerate() {
                        let _ = write!(
                            o,
                            r#"<div class="frame" data-from="{from}"{}>{svg}</div>"#,
                            if i == shown { "" } else { " hidden" }
                        );
                    }
                    o.push_str("</div>");
                } else if let Some(svg) = f.at(self.current_moment()) {
                    o.push_str(svg);
                }
                if !f.caption.is_empty() {
                    let _ = write!(o, "<figcaption>{}</figcaption>", esc(&f.caption));
                }
                for t in &f.tables {
                    table_html(&mut o, &f.id, t);
                }
                o.push_str("</figure>");
            }
            o.push_str("</section>");
        }
        let _ = writeln!(o, "<script>{SCRIPT}</script></body></html>");
        o
    }

    /// The moment the page opens at.
    pub fn current_moment(&self) -> usize {
        self.current.min(self.moments.len().saturating_sub(1))
    }

    /// Every figure, in page order.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections.iter().flat_map(|s| s.figures.iter())
    }

    /// Writes each figure's drawing (at the moment the page opens at) as `DIR/ID.svg`,
    /// making `dir` if needed; returns the files written.
    pub fn write_svgs(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot make the folder {}: {e}", dir.display()))?;
        let mut out = Vec::new();
        for f in self.figures() {
            let Some(svg) = f.at(self.current_moment()) else {
                continue;
            };
            let p = dir.join(format!("{}.svg", f.id));
            let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n");
            std::fs::write(&p, doc).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            out.push(p);
        }
        Ok(out)
    }
}

/// Writes `page` to `path` (with a clear error naming the file).
pub fn write_page(page: &Page, path: &Path) -> Result<(), String> {
    std::fs::write(path, page.render())
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// Writes `page` to `report` and its figures into `svg`, whichever are given (the
/// `--report FILE` and `--svg DIR` of a command), with a clear error naming the path.
pub fn write_outputs(page: &Page, report: Option<&Path>, svg: Option<&Path>) -> Result<(), String> {
    if let Some(p) = report {
        write_page(page, p)?;
    }
    if let Some(d) = svg {
        page.write_svgs(d)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        let mut t = Table::new("t", &["a", "b,c"]);
        t.row(vec!["1".into(), "say \"hi\"".into()]);
        assert_eq!(t.csv(), "a,\"b,c\"\r\n1,\"say \"\"hi\"\"\"\r\n");
        assert_eq!(percent("a b%\n"), "a%20b%25%0A");
    }

    #[test]
    fn page_shape() {
        let mut p = Page {
            title: "T <1>".into(),
            moments: vec![
                Moment {
                    cycle: 1,
                    label: "a".into(),
                },
                Moment {
                    cycle: 2,
                    label: "</script>".into(),
                },
            ],
            current: 1,
            ..Page::default()
        };
        let mut f = Figure::fixed("f", "cap", "<svg></svg>".into());
        f.frames.push((1, "<svg>2</svg>".into()));
        f.tables.push(Table::new("n", &["x"]));
        p.sections.push(Section {
            id: "s".into(),
            title: "S".into(),
            intro: String::new(),
            figures: vec![f],
        });
        let h = p.render();
        assert!(h.contains("<title>T &lt;1&gt;</title>"));
        assert!(!h.contains("\"</script>"));
        assert!(h.contains(r#"<div class="frame" data-from="0" hidden><svg></svg></div>"#));
        assert!(h.contains(r#"<div class="frame" data-from="1"><svg>2</svg></div>"#));
        assert_eq!(p.figures().count(), 1);
    }
}
