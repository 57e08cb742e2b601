//! A small text layout for the printed plan: headings, fields and wrapped paragraphs flowed onto
//! A4 portrait pages. Each line remembers what it is (a heading, part of a paragraph) so that
//! the PDF can be tagged for screen readers. A block — a field, a paragraph, a signature — is
//! never split across a page break unless it is taller than a page; a heading never ends a
//! page.

use super::measure::width;

/// A4 portrait, in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
/// 10 mm: nothing is drawn nearer any edge than this (printers clip there).
pub const EDGE: f32 = 28.35;
/// The text column.
pub const LEFT: f32 = 42.0;
pub const RIGHT: f32 = PAGE_WIDTH - 42.0;
/// Where the content starts and ends; above and below is the page furniture.
pub const BODY_TOP: f32 = 116.0;
pub const BODY_BOTTOM: f32 = PAGE_HEIGHT - 54.0;
/// Where a field's value starts, right of its label.
const LABEL_COLUMN: f32 = 148.0;
/// Type sizes.
pub const TEXT: f32 = 9.0;
pub const LABEL: f32 = 8.0;
/// The space between lines, as a multiple of the type size.
const LEADING: f32 = 1.25;

/// What a line is, for the tag tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A heading of this level (1 is the document's title).
    Heading(u16),
    /// Part of a paragraph; lines with the same number form one paragraph.
    Paragraph(usize),
}

/// One line of text placed on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub x: f32,
    /// The baseline, from the top of the page.
    pub y: f32,
    pub size: f32,
    pub bold: bool,
    pub text: String,
    pub role: Role,
}

/// A shaded band behind a section heading, as the paper form has: top and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub y: f32,
    pub height: f32,
}

/// One page's content.
#[derive(Debug, Default, Clone)]
pub struct Page {
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
}

/// Lines flowed onto pages.
#[derive(Debug)]
pub struct Flow {
    pub pages: Vec<Page>,
    y: f32,
    paragraphs: usize,
    /// Where content starts on each page (lower when the page carries a banner).
    top: f32,
    /// A block being gathered to be placed whole: measured from 0, never broken.
    gathering: bool,
}

/// Splits text into lines no wider than `room`, breaking between words (a word longer than a
/// line is cut). Line breaks in the text are kept.
#[must_use]
pub fn wrap(text: &str, size: f32, bold: bool, room: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= room || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            }
            // A word wider than the line: cut it where it still fits.
            while width(&line, size, bold) > room && line.chars().count() > 1 {
                let mut keep = String::new();
                for c in line.chars() {
                    keep.push(c);
                    if width(&keep, size, bold) > room {
                        keep.pop();
                        break;
                    }
                }
                let cut = keep.chars().count().max(1);
                lines.push(line.chars().take(cut).collect());
                line = line.chars().skip(cut).collect();
            }
        }
        lines.push(line);
    }
    lines
}

/// What is said where a text was cut short to keep page 1 to one page.
pub const CLIPPED: &str = " \u{2026} (in full on a later page)";

/// `text` cut at a word so that it wraps into at most `lines` lines of `room`, with
/// [`CLIPPED`] at its end when it was cut.
#[must_use]
pub fn clip(text: &str, size: f32, bold: bool, room: f32, lines: usize) -> String {
    if wrap(text, size, bold, room).len() <= lines {
        return text.to_owned();
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let (mut low, mut high) = (0, words.len());
    // The most words that still fit with the note, by halving.
    while low < high {
        let mid = (low + high).div_ceil(2);
        let candidate = format!("{}{CLIPPED}", words[..mid].join(" "));
        if wrap(&candidate, size, bold, room).len() <= lines {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    format!("{}{CLIPPED}", words[..low].join(" "))
}

/// The width a field's value wraps in.
pub const VALUE_ROOM: f32 = RIGHT - LEFT - LABEL_COLUMN;
/// The width a paragraph wraps in.
pub const PARAGRAPH_ROOM: f32 = RIGHT - LEFT;

impl Default for Flow {
    fn default() -> Self {
        Self::new()
    }
}

impl Flow {
    #[must_use]
    pub fn new() -> Self {
        Self::starting_at(BODY_TOP)
    }

    /// A flow whose pages' content starts at `top`.
    #[must_use]
    pub fn starting_at(top: f32) -> Self {
        Self {
            pages: vec![Page::default()],
            y: top,
            paragraphs: 0,
            top,
            gathering: false,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = self.top;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room_for(&mut self, height: f32) {
        if !self.gathering && self.y + height > BODY_BOTTOM && self.y > self.top {
            self.new_page();
        }
    }

    fn place(&mut self, text: String, size: f32, bold: bool, x: f32, role: Role) {
        let leading = size * LEADING;
        self.room_for(leading);
        self.y += leading;
        let y = self.y;
        self.page().lines.push(Line {
            x,
            y,
            size,
            bold,
            text,
            role,
        });
    }

    /// Lays out `build` as one block: on this page if it fits, else whole on the next; only a
    /// block taller than a page is broken.
    pub fn keep(&mut self, build: impl FnOnce(&mut Flow)) {
        if self.gathering {
            build(self);
            return;
        }
        let mut block = Flow {
            pages: vec![Page::default()],
            y: 0.0,
            paragraphs: self.paragraphs,
            top: 0.0,
            gathering: true,
        };
        build(&mut block);
        self.paragraphs = block.paragraphs;
        let height = block.y;
        let Some(content) = block.pages.pop() else {
            return;
        };
        if height <= BODY_BOTTOM - self.top {
            self.room_for(height);
            let top = self.y;
            let page = self.page();
            page.lines.extend(content.lines.into_iter().map(|mut l| {
                l.y += top;
                l
            }));
            page.bands.extend(content.bands.into_iter().map(|mut b| {
                b.y += top;
                b
            }));
            self.y = top + height;
        } else {
            // Taller than a page: line by line.
            let mut previous = 0.0;
            for line in content.lines {
                let step = line.y - previous;
                previous = line.y;
                self.room_for(step);
                self.y += step;
                let y = self.y;
                self.page().lines.push(Line { y, ..line });
            }
            self.y += height - previous;
        }
    }

    /// The document's title.
    pub fn title(&mut self, text: &str) {
        self.keep(|f| {
            for line in wrap(text, 11.5, true, RIGHT - LEFT) {
                f.place(line, 11.5, true, LEFT, Role::Heading(1));
            }
            f.y += 2.0;
        });
    }

    /// A section heading on a shaded band, kept with what follows it (`next`, laid out with
    /// it as one block).
    pub fn section(&mut self, text: &str, next: impl FnOnce(&mut Flow)) {
        self.keep(|f| {
            f.y += 4.0;
            let top = f.y;
            for line in wrap(text, 9.5, true, RIGHT - LEFT - 8.0) {
                f.place(line, 9.5, true, LEFT + 4.0, Role::Heading(2));
            }
            f.y += 3.0;
            let band = Band {
                y: top,
                height: f.y - top,
            };
            f.page().bands.push(band);
            f.y += 2.0;
            next(f);
        });
    }

    /// A heading within a section, kept with what follows it.
    pub fn subheading(&mut self, text: &str, next: impl FnOnce(&mut Flow)) {
        self.keep(|f| {
            f.y += 3.0;
            for line in wrap(text, 10.0, true, RIGHT - LEFT) {
                f.place(line, 10.0, true, LEFT, Role::Heading(3));
            }
            next(f);
        });
    }

    /// A paragraph, wrapped, kept whole.
    pub fn paragraph(&mut self, text: impl std::fmt::Display, size: f32, bold: bool) {
        self.paragraphs += 1;
        let id = self.paragraphs;
        let text = text.to_string();
        self.keep(|f| {
            for line in wrap(&text, size, bold, RIGHT - LEFT) {
                f.place(line, size, bold, LEFT, Role::Paragraph(id));
            }
        });
    }

    /// A label and its value side by side, as on the paper form, kept whole; a label too long
    /// for its column goes on its own line above the value. The label ends with a colon so
    /// that the text reads "Label: value" when copied out.
    pub fn field(&mut self, label: impl std::fmt::Display, value: impl std::fmt::Display) {
        self.paragraphs += 1;
        let id = self.paragraphs;
        let label = format!("{label}:");
        let labels = if width(&label, LABEL, true) <= LABEL_COLUMN - 8.0 {
            vec![label]
        } else {
            wrap(&label, LABEL, true, RIGHT - LEFT)
        };
        let above = labels.len() > 1 || width(&labels[0], LABEL, true) > LABEL_COLUMN - 8.0;
        let values = wrap(&value.to_string(), TEXT, false, RIGHT - LEFT - LABEL_COLUMN);
        self.keep(|f| {
            let leading = TEXT * LEADING;
            if above {
                for text in labels {
                    f.place(text, LABEL, true, LEFT, Role::Paragraph(id));
                }
                for text in values {
                    f.place(text, TEXT, false, LEFT + LABEL_COLUMN, Role::Paragraph(id));
                }
                f.y += 1.5;
                return;
            }
            let top = f.y;
            for (i, text) in labels.into_iter().enumerate() {
                #[allow(clippy::cast_precision_loss)] // a label wraps onto a few lines
                let y = top + leading * (i as f32 + 1.0);
                f.page().lines.push(Line {
                    x: LEFT,
                    y,
                    size: LABEL,
                    bold: true,
                    text,
                    role: Role::Paragraph(id),
                });
                f.y = f.y.max(y);
            }
            f.y = top;
            for text in values {
                f.place(text, TEXT, false, LEFT + LABEL_COLUMN, Role::Paragraph(id));
            }
            f.y = f.y.max(top + leading);
            if let Some(last) = f.page().lines.iter().map(|l| l.y).reduce(f32::max) {
                f.y = f.y.max(last);
            }
            f.y += 1.5;
        });
    }

    /// The rest starts on a new page.
    pub fn page_break(&mut self) {
        if self.pages.last().is_some_and(|p| !p.lines.is_empty()) {
            self.new_page();
        }
    }

    /// A little space.
    pub fn gap(&mut self) {
        self.y += 5.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_the_margin() {
        let text = "The person wishes to stay at home with the family around, and to be kept \
                    comfortable; hospital admission only if symptoms cannot be controlled.";
        let lines = wrap(text, 10.0, false, 200.0);
        assert!(lines.len() > 1);
        assert_eq!(
            lines.join(" "),
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        for line in &lines {
            assert!(width(line, 10.0, false) <= 200.0, "{line}");
        }
        let long = "W".repeat(200);
        for line in wrap(&long, 10.0, true, 100.0) {
            assert!(width(&line, 10.0, true) <= 100.0, "{line}");
        }
    }

    #[test]
    fn a_clipped_text_fits_its_lines_and_says_it_was_clipped() {
        let long = "word ".repeat(400);
        let clipped = clip(&long, TEXT, false, VALUE_ROOM, 4);
        assert!(clipped.ends_with(CLIPPED));
        assert_eq!(wrap(&clipped, TEXT, false, VALUE_ROOM).len(), 4);
        assert_eq!(clip("short", TEXT, false, VALUE_ROOM, 4), "short");
    }

    #[test]
    fn a_long_flow_goes_onto_more_pages_within_the_body() {
        let mut flow = Flow::new();
        for i in 0..200 {
            flow.field(format!("Line {i}"), "a value");
        }
        assert!(flow.pages.len() > 2);
        for line in flow.pages.iter().flat_map(|p| &p.lines) {
            assert!(line.y > BODY_TOP && line.y <= BODY_BOTTOM, "{line:?}");
            assert!(line.x >= LEFT && line.x + width(&line.text, line.size, line.bold) <= RIGHT);
        }
    }

    #[test]
    fn a_block_is_never_split_across_pages_and_a_heading_stays_with_its_text() {
        let mut flow = Flow::new();
        // Fill the page to just above its end.
        while flow.y < BODY_BOTTOM - 30.0 {
            flow.paragraph("filler", TEXT, false);
        }
        let before = flow.pages.len();
        flow.field(
            "Signed",
            "Dr Demo Clinician, GP, GMC 7654321, senior responsible clinician, electronically \
             signed in the Universal Care Plan on 3 Dec 2026, 14:05, and a long tail of words \
             that makes this signature three lines long at least",
        );
        assert_eq!(flow.pages.len(), before + 1, "moved whole to the next page");
        let signature: Vec<_> = flow.pages[before].lines.iter().collect();
        assert!(signature.len() >= 3);
        assert!(signature.iter().all(|l| l.y > BODY_TOP));

        while flow.y < BODY_BOTTOM - 20.0 {
            flow.paragraph("filler", TEXT, false);
        }
        let before = flow.pages.len();
        flow.section("8. Emergency contacts", |f| f.field("Name", "Tom"));
        assert_eq!(flow.pages.len(), before + 1);
        assert_eq!(
            flow.pages[before].lines.len(),
            3,
            "heading, label and value together"
        );
    }
}
