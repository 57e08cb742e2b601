//! Writing the laid-out plan as a tagged PDF with krilla. Everything is drawn at least 10 mm
//! from every edge: the QR code and its quiet zone, the header, the banner, the watermark and
//! the footer included.

use std::num::NonZeroU16;
use std::sync::{Arc, LazyLock};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::tagging::{Artifact, ArtifactType, ContentTag, SpanTag, Tag, TagGroup, TagTree};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use ucp_domain::views::EmergencySummary;

use super::furniture::Furniture;
use super::layout::{wrap, Flow, Line, Role, LEFT, PAGE_HEIGHT, PAGE_WIDTH, RIGHT};
use super::measure::{width, BOLD, REGULAR};
use crate::AppError;

static FONTS: LazyLock<Option<(Font, Font)>> = LazyLock::new(|| {
    let regular = Font::new(Arc::new(REGULAR.to_vec()).into(), 0)?;
    let bold = Font::new(Arc::new(BOLD.to_vec()).into(), 0)?;
    Some((regular, bold))
});

/// The QR code's box (with its quiet zone), top right, inside the 10 mm margin.
pub const QR_SIZE: f32 = 84.0;
const QR_X: f32 = RIGHT - QR_SIZE;
const QR_Y: f32 = 30.0;
/// The banner of a plan not current sits below the header and the code, never on them.
const BANNER_TOP: f32 = QR_Y + QR_SIZE + 4.0;
/// Where the content starts when there is a banner.
pub const BODY_TOP_WITH_BANNER: f32 = BANNER_TOP + BANNER_HEIGHT + 4.0;
/// Room for three lines of the banner.
const BANNER_HEIGHT: f32 = 46.0;
const BANNER_SIZE: f32 = 11.0;

fn fail(what: &str) -> AppError {
    AppError::Internal(format!("printing the plan: {what}").into())
}

fn grey(level: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(level, level, level).into(),
        ..Fill::default()
    }
}

fn fill_rect(surface: &mut Surface<'_>, rect: Option<Rect>, level: u8) {
    let mut path = PathBuilder::new();
    if let Some(rect) = rect {
        path.push_rect(rect);
    }
    if let Some(path) = path.finish() {
        surface.set_fill(Some(grey(level)));
        surface.draw_path(&path);
    }
}

/// The QR code's modules as filled squares, `size` points wide with its quiet zone, top-left
/// at (x, y).
fn draw_qr(
    surface: &mut Surface<'_>,
    link: &str,
    x: f32,
    y: f32,
    size: f32,
) -> Result<(), AppError> {
    let code = qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| fail(&e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    // Four modules of quiet zone around the code, as the standard asks.
    #[allow(clippy::cast_precision_loss)]
    let module = size / (width + 8) as f32;
    let mut path = PathBuilder::new();
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            #[allow(clippy::cast_precision_loss)]
            let (cx, cy) = ((i % width + 4) as f32, (i / width + 4) as f32);
            if let Some(rect) = Rect::from_xywh(x + cx * module, y + cy * module, module, module) {
                path.push_rect(rect);
            }
        }
    }
    if let Some(path) = path.finish() {
        surface.set_fill(Some(grey(0)));
        surface.draw_path(&path);
    }
    Ok(())
}

fn text(surface: &mut Surface<'_>, font: &Font, line: &Line) {
    surface.set_fill(Some(grey(0)));
    surface.draw_text(
        Point::from_xy(line.x, line.y),
        font.clone(),
        line.size,
        &line.text,
        false,
        TextDirection::Auto,
    );
}

fn furniture_line(x: f32, y: f32, size: f32, s: &str) -> Line {
    Line {
        x,
        y,
        size,
        bold: false,
        text: s.to_owned(),
        role: Role::Paragraph(0),
    }
}

/// The full-page diagonal watermark of a plan not current, in light grey under the content,
/// along the page's diagonal and centred on it.
fn watermark(surface: &mut Surface<'_>, bold: &Font, lines: &(String, String)) {
    let angle = -(PAGE_HEIGHT / PAGE_WIDTH).atan();
    let (sin, cos) = angle.sin_cos();
    surface.push_transform(&Transform::from_row(
        cos,
        sin,
        -sin,
        cos,
        PAGE_WIDTH / 2.0,
        PAGE_HEIGHT / 2.0,
    ));
    surface.set_fill(Some(grey(205)));
    for (line, size, baseline) in [(&lines.0, 84.0, 0.0), (&lines.1, 30.0, 44.0)] {
        let w = width(line, size, true);
        surface.draw_text(
            Point::from_xy(-w / 2.0, baseline),
            bold.clone(),
            size,
            line,
            false,
            TextDirection::Auto,
        );
    }
    surface.pop();
}

/// Page furniture, marked as artifacts (repeated on every page, outside the reading order).
fn furniture(
    surface: &mut Surface<'_>,
    fonts: &(Font, Font),
    f: &Furniture,
    page: usize,
    pages: usize,
) -> Result<(), AppError> {
    let (regular, bold) = fonts;
    if let Some(lines) = &f.watermark {
        surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
            ArtifactType::Watermark,
        )));
        watermark(surface, bold, lines);
        surface.end_tagged();
    }
    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
        ArtifactType::Header,
    )));
    let room = QR_X - 10.0 - LEFT;
    let mut y = 44.0;
    for (font, size, s) in [
        (bold, 9.5, &f.header),
        (regular, 8.5, &f.status_line),
        (regular, 8.5, &f.check_prompt),
    ] {
        for part in wrap(s, size, std::ptr::eq(font, bold), room) {
            text(surface, font, &furniture_line(LEFT, y, size, &part));
            y += size * 1.4;
        }
    }
    for part in wrap(&f.link, 7.5, true, room) {
        let mut l = furniture_line(LEFT, y, 7.5, &part);
        l.bold = true;
        text(surface, bold, &l);
        y += 7.5 * 1.35;
    }
    draw_qr(surface, &f.link, QR_X, QR_Y, QR_SIZE)?;
    if let Some(banner) = &f.banner {
        // A box with a heavy rule, below the code: black on white prints on any printer.
        let size = BANNER_SIZE;
        let lines = wrap(banner, size, true, RIGHT - LEFT - 16.0);
        #[allow(clippy::cast_precision_loss)] // one to three lines
        let height = (lines.len() as f32 * size * 1.2 + 12.0).min(BANNER_HEIGHT);
        let (top, rule) = (BANNER_TOP, 2.5);
        fill_rect(surface, Rect::from_xywh(LEFT, top, RIGHT - LEFT, rule), 0);
        fill_rect(
            surface,
            Rect::from_xywh(LEFT, top + height - rule, RIGHT - LEFT, rule),
            0,
        );
        fill_rect(surface, Rect::from_xywh(LEFT, top, rule, height), 0);
        fill_rect(surface, Rect::from_xywh(RIGHT - rule, top, rule, height), 0);
        #[allow(clippy::cast_precision_loss)] // one to three lines
        let mut y = top + height / 2.0 + size * 0.35 - (lines.len() as f32 - 1.0) * size * 0.6;
        for line in lines {
            let mut l = furniture_line(LEFT + 8.0, y, size, &line);
            l.bold = true;
            text(surface, bold, &l);
            y += size * 1.2;
        }
    }
    surface.end_tagged();
    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
        ArtifactType::Footer,
    )));
    let mut y = PAGE_HEIGHT - 44.0;
    for part in wrap(
        &format!("Page {page} of {pages}.  {}", f.footer),
        8.0,
        false,
        RIGHT - LEFT,
    ) {
        text(surface, regular, &furniture_line(LEFT, y, 8.0, &part));
        y += 8.0 * 1.35;
    }
    surface.end_tagged();
    Ok(())
}

/// The PDF bytes.
pub fn pdf(flow: &Flow, f: &Furniture, summary: &EmergencySummary) -> Result<Vec<u8>, AppError> {
    let fonts = FONTS.as_ref().ok_or_else(|| fail("the embedded font"))?;
    let mut document = Document::new_with(SerializeSettings {
        enable_tagging: true,
        ..SerializeSettings::default()
    });
    document.set_metadata(
        Metadata::new()
            .title(f.title.clone())
            .language("en-GB".to_owned())
            .description(format!(
                "Universal Care Plan version {} ({})",
                summary.plan_version, summary.status
            ))
            .creator("Universal Care Plan API".to_owned()),
    );
    let mut tree = TagTree::new();
    let pages = flow.pages.len();
    let mut current: Option<(Role, TagGroup)> = None;
    for (index, page_content) in flow.pages.iter().enumerate() {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| fail("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        furniture(&mut surface, fonts, f, index + 1, pages)?;
        surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
            ArtifactType::PaginationOther,
        )));
        for band in &page_content.bands {
            fill_rect(
                &mut surface,
                Rect::from_xywh(LEFT, band.y, RIGHT - LEFT, band.height),
                225,
            );
        }
        surface.end_tagged();
        for line in &page_content.lines {
            let font = if line.bold { &fonts.1 } else { &fonts.0 };
            let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
            text(
                &mut surface,
                font,
                &Line {
                    y: line.y,
                    ..line.clone()
                },
            );
            surface.end_tagged();
            // Lines of one heading or paragraph go into one group, in reading order.
            let same = current.as_ref().is_some_and(|(role, _)| *role == line.role);
            if !same {
                if let Some((_, group)) = current.take() {
                    tree.push(group);
                }
                let group = match line.role {
                    Role::Heading(level) => TagGroup::new(Tag::Hn(
                        NonZeroU16::new(level).unwrap_or(NonZeroU16::MIN),
                        Some(line.text.clone()),
                    )),
                    Role::Paragraph(_) => TagGroup::new(Tag::P),
                };
                current = Some((line.role, group));
            }
            if let Some((_, group)) = current.as_mut() {
                group.push(id);
            }
        }
        surface.finish();
        page.finish();
    }
    if let Some((_, group)) = current.take() {
        tree.push(group);
    }
    document.set_tag_tree(tree);
    document.finish().map_err(|e| fail(&format!("{e:?}")))
}

// Nothing is drawn within 10 mm of an edge: the furniture's fixed places are checked here,
// the flowed content by the layout's column and body bounds (and the PDF tests by pixels).
const _: () = assert!(
    QR_Y > super::layout::EDGE
        && RIGHT + super::layout::EDGE < PAGE_WIDTH
        && LEFT > super::layout::EDGE
        && super::layout::BODY_BOTTOM + 20.0 < PAGE_HEIGHT - super::layout::EDGE
);
