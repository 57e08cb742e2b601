//! A small text layout for the printed plan: headings and wrapped paragraphs flowed onto A4
//! pages, each line remembering what it is (a heading, a paragraph, page furniture) so that the
//! PDF can be tagged for screen readers.

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;
pub const MARGIN: f32 = 48.0;
/// Room kept at the top and bottom of every page for the header and footer.
pub const HEADER: f32 = 78.0;
pub const FOOTER: f32 = 40.0;

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

/// Lines flowed onto pages.
#[derive(Debug, Default)]
pub struct Flow {
    pub pages: Vec<Vec<Line>>,
    y: f32,
    paragraphs: usize,
}

/// An estimate of a line's width in DejaVu Sans: wide enough never to run past the margin.
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let per_char = if bold { 0.66 } else { 0.60 };
    #[allow(clippy::cast_precision_loss)] // line lengths are small
    let chars = text.chars().count() as f32;
    chars * size * per_char
}

/// Splits text into lines no wider than `room`, breaking between words (a word longer than a
/// line is cut).
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
            while width(&line, size, bold) > room && line.chars().count() > 1 {
                let keep = ((room / (size * 0.66)) as usize).max(1);
                let rest: String = line.chars().skip(keep).collect();
                lines.push(line.chars().take(keep).collect());
                line = rest;
            }
        }
        lines.push(line);
    }
    lines
}

impl Flow {
    #[must_use]
    pub fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: HEADER + MARGIN / 2.0,
            paragraphs: 0,
        }
    }

    fn room_for(&mut self, height: f32) {
        if self.y + height > PAGE_HEIGHT - FOOTER - MARGIN / 2.0 {
            self.pages.push(Vec::new());
            self.y = HEADER + MARGIN / 2.0;
        }
    }

    fn place(&mut self, text: String, size: f32, bold: bool, indent: f32, role: Role) {
        let leading = size * 1.35;
        self.room_for(leading);
        self.y += leading;
        let line = Line {
            x: MARGIN + indent,
            y: self.y,
            size,
            bold,
            text,
            role,
        };
        if let Some(page) = self.pages.last_mut() {
            page.push(line);
        }
    }

    /// A heading; a heading never ends a page alone.
    pub fn heading(&mut self, level: u16, text: &str) {
        let size = match level {
            1 => 18.0,
            2 => 14.0,
            _ => 12.0,
        };
        self.room_for(size * 1.35 * 3.0);
        self.y += size * 0.4;
        for line in wrap(text, size, true, PAGE_WIDTH - 2.0 * MARGIN) {
            self.place(line, size, true, 0.0, Role::Heading(level));
        }
    }

    /// A paragraph, wrapped.
    pub fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        self.paragraphs += 1;
        let id = self.paragraphs;
        for line in wrap(text, size, bold, PAGE_WIDTH - 2.0 * MARGIN) {
            self.place(line, size, bold, 0.0, Role::Paragraph(id));
        }
    }

    /// A label and its value, as one paragraph ("Label: value").
    pub fn field(&mut self, label: &str, value: &str) {
        self.paragraph(&format!("{label}: {value}"), 10.0, false);
    }

    /// The rest starts on a new page.
    pub fn page_break(&mut self) {
        if self.pages.last().is_some_and(|p| !p.is_empty()) {
            self.pages.push(Vec::new());
            self.y = HEADER + MARGIN / 2.0;
        }
    }

    /// A little space.
    pub fn gap(&mut self) {
        self.y += 6.0;
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
    }

    #[test]
    fn a_long_flow_goes_onto_more_pages_within_the_margins() {
        let mut flow = Flow::new();
        for i in 0..200 {
            flow.paragraph(&format!("Line {i}"), 10.0, false);
        }
        assert!(flow.pages.len() > 2);
        for line in flow.pages.iter().flatten() {
            assert!(line.y > HEADER && line.y < PAGE_HEIGHT - FOOTER, "{line:?}");
        }
    }
}
