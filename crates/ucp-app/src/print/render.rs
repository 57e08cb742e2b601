//! Writing the laid-out plan as a tagged PDF with krilla.

use std::num::NonZeroU16;
use std::sync::{Arc, LazyLock};

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::tagging::{ArtifactType, ContentTag, SpanTag, Tag, TagGroup, TagTree};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use ucp_domain::views::EmergencySummary;

use super::content::Furniture;
use super::layout::{Flow, Line, Role, MARGIN, PAGE_HEIGHT, PAGE_WIDTH};
use crate::AppError;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

static FONTS: LazyLock<Option<(Font, Font)>> = LazyLock::new(|| {
    let regular = Font::new(Arc::new(REGULAR.to_vec()).into(), 0)?;
    let bold = Font::new(Arc::new(BOLD.to_vec()).into(), 0)?;
    Some((regular, bold))
});

fn fail(what: &str) -> AppError {
    AppError::Internal(format!("printing the plan: {what}").into())
}

fn black() -> Fill {
    Fill {
        paint: rgb::Color::new(0, 0, 0).into(),
        ..Fill::default()
    }
}

/// The QR code's modules as filled squares, `size` points wide, top-left at (x, y).
fn draw_qr(
    surface: &mut Surface<'_>,
    link: &str,
    x: f32,
    y: f32,
    size: f32,
) -> Result<(), AppError> {
    let code = qrcode::QrCode::new(link.as_bytes()).map_err(|e| fail(&e.to_string()))?;
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
        surface.set_fill(Some(black()));
        surface.draw_path(&path);
    }
    Ok(())
}

fn text(surface: &mut Surface<'_>, font: &Font, line: &Line) {
    surface.set_fill(Some(black()));
    surface.draw_text(
        Point::from_xy(line.x, line.y),
        font.clone(),
        line.size,
        &line.text,
        false,
        TextDirection::Auto,
    );
}

/// Page furniture: the header, the status, the banner of a plan not to act on, the QR code
/// and the link — marked as artifacts (repeated on every page, outside the reading order).
fn furniture(
    surface: &mut Surface<'_>,
    fonts: &(Font, Font),
    f: &Furniture,
    page: usize,
    pages: usize,
) -> Result<(), AppError> {
    let (regular, bold) = fonts;
    surface.start_tagged(ContentTag::Artifact(krilla::tagging::Artifact::with_kind(
        ArtifactType::Header,
    )));
    let qr = 96.0;
    let line = |y: f32, size: f32, s: &str| Line {
        x: MARGIN,
        y,
        size,
        bold: false,
        text: s.to_owned(),
        role: Role::Paragraph(0),
    };
    text(surface, bold, &line(MARGIN - 14.0, 9.0, &f.header));
    text(surface, regular, &line(MARGIN - 2.0, 9.0, &f.status_line));
    text(surface, regular, &line(MARGIN + 10.0, 8.0, &f.link));
    if let Some(banner) = &f.banner {
        text(surface, bold, &line(MARGIN + 26.0, 14.0, banner));
    }
    draw_qr(surface, &f.link, PAGE_WIDTH - MARGIN - qr + 16.0, 0.0, qr)?;
    surface.end_tagged();
    surface.start_tagged(ContentTag::Artifact(krilla::tagging::Artifact::with_kind(
        ArtifactType::Footer,
    )));
    text(
        surface,
        regular,
        &line(
            PAGE_HEIGHT - MARGIN + 16.0,
            9.0,
            &format!("{}   Page {page} of {pages}", f.footer),
        ),
    );
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
    for (index, lines) in flow.pages.iter().enumerate() {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| fail("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        furniture(&mut surface, fonts, f, index + 1, pages)?;
        for line in lines {
            let font = if line.bold { &fonts.1 } else { &fonts.0 };
            let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
            text(&mut surface, font, line);
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
