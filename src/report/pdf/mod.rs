//! PDF rendering with printpdf's drawing operations, an embedded font and our own layout.

mod font;
mod layout;
mod pages;
mod summaries;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Result};
use printpdf::{
    FontId, Op, PageAnnotId, PageAnnotation, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, TextItem,
};

use super::ReportModel;
use crate::store::sha256_hex;

pub use font::{Fonts, Weight};

/// Renders the report as a PDF document (A4 or Letter), byte-identical for the same model.
pub fn render(model: &ReportModel, paper: crate::report::Paper) -> Result<Vec<u8>> {
    let size = match paper {
        crate::report::Paper::A4 => layout::PageSize::A4,
        crate::report::Paper::Letter => layout::PageSize::LETTER,
    };
    let people = model.for_people();
    let model = people.as_ref();
    let fonts = Fonts::load()?;
    let contents = {
        let mut first_pass = layout::Layout::new(&fonts, size);
        pages::compose(&mut first_pass, model, &[]);
        first_pass.bookmarks().to_vec()
    };
    let mut layout = layout::Layout::new(&fonts, size);
    pages::compose(&mut layout, model, &contents);
    let (pages, bookmarks) = layout.finish(&model.title, &format!("Evidence as of {}", model.as_of));
    if bookmarks != contents {
        return Err(anyhow!("the table of contents moved the sections it lists; the PDF layout needs a fix"));
    }

    let mut document = PdfDocument::new(&model.title);
    let used = characters_by_font(&pages);
    for face in fonts.faces() {
        let chars = used.get(&face.id).cloned().unwrap_or_default();
        document.resources.fonts.map.insert(face.id.clone(), printpdf::PdfFont::new(face.subset(&chars)?));
    }
    for (index, (name, page)) in bookmarks.into_iter().enumerate() {
        document.bookmarks.map.insert(PageAnnotId(format!("B{index:04}")), PageAnnotation { name, page });
    }
    let moment = chrono::NaiveDateTime::parse_from_str(&model.as_of_iso, "%Y-%m-%dT%H:%M:%SZ")
        .map_err(|error| anyhow!("report time {:?}: {error}", model.as_of_iso))?;
    let stamp = printpdf::OffsetDateTime::from_unix_timestamp(moment.and_utc().timestamp()).map_err(|e| anyhow!(e))?;
    let info = &mut document.metadata.info;
    info.creation_date = stamp;
    info.modification_date = stamp;
    info.metadata_date = stamp;
    info.author = "pipeproof".to_string();
    info.creator = format!("pipeproof {}", model.tool_version);
    info.producer = format!("pipeproof {} (printpdf)", model.tool_version);
    info.subject = format!("CI/CD pipeline security assessment of {}", model.organisation);
    info.keywords = vec!["pipeproof".into(), "audit".into(), "CI/CD".into()];
    info.identifier = format!("evaluation-{}", model.evaluation_id);
    document.with_pages(pages);

    let mut warnings = Vec::new();
    let bytes = document.save(&PdfSaveOptions::default(), &mut warnings);
    Ok(fix_document_id(bytes))
}

/// The characters each embedded font shows, so each can be subset to them.
fn characters_by_font(pages: &[PdfPage]) -> BTreeMap<FontId, BTreeSet<char>> {
    let mut used: BTreeMap<FontId, BTreeSet<char>> = BTreeMap::new();
    for page in pages {
        let mut current: Option<FontId> = None;
        for op in &page.ops {
            match op {
                Op::SetFont { font: PdfFontHandle::External(id), .. } => current = Some(id.clone()),
                Op::ShowText { items } => {
                    if let Some(id) = &current {
                        let chars = used.entry(id.clone()).or_default();
                        for item in items {
                            if let TextItem::Text(text) = item {
                                chars.extend(text.chars());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    used
}

/// printpdf writes a random trailer `/ID`; replace it, at the same length, with a digest of the document.
fn fix_document_id(mut bytes: Vec<u8>) -> Vec<u8> {
    let Some(id_at) = bytes.windows(4).rposition(|w| w == b"/ID[") else {
        return bytes;
    };
    let mut spans = Vec::new();
    let mut cursor = id_at + 4;
    while spans.len() < 2 {
        let Some(open) = bytes[cursor..].iter().position(|&b| b == b'(').map(|p| p + cursor) else {
            return bytes;
        };
        let Some(close) = bytes[open..].iter().position(|&b| b == b')').map(|p| p + open) else {
            return bytes;
        };
        spans.push((open + 1, close));
        cursor = close + 1;
    }
    for &(start, end) in &spans {
        bytes[start..end].fill(b'0');
    }
    let digest = sha256_hex(&bytes);
    for &(start, end) in &spans {
        let length = end - start;
        let replacement: Vec<u8> = digest.bytes().cycle().take(length).collect();
        bytes[start..end].copy_from_slice(&replacement);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::fix_document_id;

    #[test]
    fn rendering_twice_gives_the_same_bytes() {
        let model = crate::report::model::sample_model();
        let first = super::render(&model, crate::report::Paper::A4).unwrap();
        let second = super::render(&model, crate::report::Paper::A4).unwrap();
        assert!(first.starts_with(b"%PDF-"));
        assert!(first == second, "two renders of one model differ");
    }

    #[test]
    fn the_document_id_depends_only_on_content() {
        let a = fix_document_id(b"%PDF body trailer<</ID[(abcdefgh)(ijklmnop)]>>".to_vec());
        let b = fix_document_id(b"%PDF body trailer<</ID[(zzzzzzzz)(yyyyyyyy)]>>".to_vec());
        assert_eq!(a, b);
        assert_eq!(a.len(), b"%PDF body trailer<</ID[(abcdefgh)(ijklmnop)]>>".len());
    }
}
