//! How wide a line of text is in the embedded DejaVu Sans, from the font's own advance widths:
//! lines are wrapped by what they measure, so none runs into the margin a printer clips.

use std::sync::LazyLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

pub(super) static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(super) static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Advances per em for the first 0x250 code points (Latin, with its accents), and the font
/// to ask for the rest.
struct Advances {
    table: Vec<f32>,
    font: &'static [u8],
    fallback: f32,
}

/// Code points below this are looked up in a table; others ask the font.
const TABLE: u32 = 0x250;

impl Advances {
    fn of(font: &'static [u8]) -> Self {
        // A character the font does not have is drawn as its missing-glyph box, about as wide
        // as a capital; if the font cannot be read, a wide guess keeps lines inside the margin.
        let fallback = 0.75;
        let table = (0..TABLE)
            .map(|c| char::from_u32(c).map_or(fallback, |c| Self::ask(font, c, fallback)))
            .collect();
        Self {
            table,
            font,
            fallback,
        }
    }

    fn ask(font: &[u8], c: char, fallback: f32) -> f32 {
        let Ok(f) = FontRef::new(font) else {
            return fallback;
        };
        let upem = f32::from(
            f.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        let glyph = f.charmap().map(c).unwrap_or_default();
        f.glyph_metrics(Size::unscaled(), LocationRef::default())
            .advance_width(glyph)
            .filter(|_| upem > 0.0)
            .map_or(fallback, |w| w / upem)
    }

    fn em(&self, c: char) -> f32 {
        self.table
            .get(c as usize)
            .copied()
            .unwrap_or_else(|| Self::ask(self.font, c, self.fallback))
    }
}

static WIDTHS: LazyLock<(Advances, Advances)> =
    LazyLock::new(|| (Advances::of(REGULAR), Advances::of(BOLD)));

/// The width of `text` in points at `size`.
#[must_use]
pub fn width(text: &str, size: f32, bold: bool) -> f32 {
    let advances = if bold { &WIDTHS.1 } else { &WIDTHS.0 };
    text.chars().map(|c| advances.em(c)).sum::<f32>() * size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_come_from_the_font() {
        // DejaVu Sans: "i" is narrow, "W" wide, bold wider than regular.
        assert!(width("i", 10.0, false) < 4.0);
        assert!(width("W", 10.0, false) > 9.0);
        assert!(width("NOT CURRENT", 10.0, true) > width("NOT CURRENT", 10.0, false));
        assert!(
            (width("ab", 10.0, false) - width("a", 10.0, false) - width("b", 10.0, false)).abs()
                < 1e-3
        );
        // Beyond the table (an arrow, a CJK character): still a width.
        assert!(width("\u{2192}", 10.0, false) > 0.0);
        assert!(width("\u{4e2d}", 10.0, false) > 0.0);
    }
}
