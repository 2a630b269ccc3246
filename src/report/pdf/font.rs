//! The embedded fonts (DejaVu Sans, free licence) and text measurement with their real metrics.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use printpdf::{FontId, ParsedFont, PdfFontHandle};

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Regular or bold text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Body text.
    Regular,
    /// Headings and labels.
    Bold,
}

/// One parsed face and the fixed id it is embedded under.
pub struct Face {
    /// The parsed font (metrics and glyphs).
    pub parsed: ParsedFont,
    /// Its id in the PDF's resources (fixed, so output is deterministic).
    pub id: FontId,
    /// The font file, for subsetting.
    bytes: &'static [u8],
}

impl Face {
    /// A copy of the face holding only the glyphs for `chars` (plus .notdef), with the same metrics,
    /// so the PDF embeds kilobytes instead of the whole font.
    pub fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont> {
        use allsorts::binary::read::ReadScope;
        use allsorts::font_data::FontData;
        use allsorts::subset::{subset, CmapTarget, SubsetProfile};

        let mut glyphs: BTreeSet<u16> =
            chars.iter().filter_map(|c| self.parsed.lookup_glyph_index(*c as u32)).collect();
        glyphs.insert(0);
        let glyphs: Vec<u16> = glyphs.into_iter().collect();
        let font = ReadScope::new(self.bytes).read::<FontData<'_>>().map_err(|e| anyhow!("embedded font: {e}"))?;
        let provider = font.table_provider(0).map_err(|e| anyhow!("embedded font: {e}"))?;
        let bytes = subset(&provider, &glyphs, &SubsetProfile::Minimal, CmapTarget::Unicode)
            .map_err(|e| anyhow!("subsetting font {}: {e:?}", self.id.0))?;
        ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
            .ok_or_else(|| anyhow!("the subset of font {} cannot be parsed", self.id.0))
    }
}

/// The two faces a report uses.
pub struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    /// Parses the embedded fonts.
    pub fn load() -> Result<Fonts> {
        let parse = |bytes: &'static [u8], id: &str| -> Result<Face> {
            let parsed = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                .ok_or_else(|| anyhow!("embedded font {id} cannot be parsed"))?;
            Ok(Face { parsed, id: FontId(id.to_string()), bytes })
        };
        Ok(Fonts { regular: parse(REGULAR_TTF, "FDejaVuSans")?, bold: parse(BOLD_TTF, "FDejaVuSansBold")? })
    }

    /// The face for a weight.
    pub fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Both faces.
    pub fn faces(&self) -> [&Face; 2] {
        [&self.regular, &self.bold]
    }

    /// The handle that selects a weight in page operations.
    pub fn handle(&self, weight: Weight) -> PdfFontHandle {
        PdfFontHandle::External(self.face(weight).id.clone())
    }

    /// The width of `text` in points at `size`.
    pub fn width(&self, weight: Weight, text: &str, size: f32) -> f32 {
        let font = &self.face(weight).parsed;
        let units_per_em = f32::from(font.units_per_em.max(1));
        let fallback = font.lookup_glyph_index('?' as u32).and_then(|gid| font.get_glyph_width(gid)).unwrap_or(600);
        let units: u32 = text
            .chars()
            .map(|c| {
                u32::from(
                    font.lookup_glyph_index(c as u32).and_then(|gid| font.get_glyph_width(gid)).unwrap_or(fallback),
                )
            })
            .sum();
        units as f32 * size / units_per_em
    }

    /// Breaks `text` into lines no wider than `max_width`; words too long for a line are split.
    pub fn wrap(&self, weight: Weight, text: &str, size: f32, max_width: f32) -> Vec<String> {
        // Widths add up (no kerning is applied), so a line's width is kept as it grows rather than re-measured.
        let space = self.width(weight, " ", size);
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_width = 0.0;
            for word in paragraph.split_whitespace() {
                let word_width = self.width(weight, word, size);
                let candidate_width = if line.is_empty() { word_width } else { line_width + space + word_width };
                if candidate_width <= max_width {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_width = candidate_width;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if word_width <= max_width {
                    line = word.to_string();
                    line_width = word_width;
                } else {
                    for chunk in self.split_long_word(weight, word, size, max_width) {
                        if !line.is_empty() {
                            lines.push(std::mem::take(&mut line));
                        }
                        line_width = self.width(weight, &chunk, size);
                        line = chunk;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Splits a word wider than a line: at `/ - _ . @ :` where that fills a line well enough, else into
    /// equal-length pieces (so a hash wraps as two even halves, not a line and a stub).
    fn split_long_word(&self, weight: Weight, word: &str, size: f32, max_width: f32) -> Vec<String> {
        let chars: Vec<char> = word.chars().collect();
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let rest: String = chars[start..].iter().collect();
            if self.width(weight, &rest, size) <= max_width {
                pieces.push(rest);
                break;
            }
            let mut fit = start + 1;
            while fit < chars.len()
                && self.width(weight, &chars[start..=fit].iter().collect::<String>(), size) <= max_width
            {
                fit += 1;
            }
            let natural = (start + 1..fit).rev().find(|&i| matches!(chars[i - 1], '/' | '-' | '_' | '.' | '@' | ':'));
            let end = match natural {
                Some(end) if (end - start) * 2 >= fit - start => end,
                _ => {
                    let remaining = chars.len() - start;
                    let lines = remaining.div_ceil(fit - start);
                    start + remaining.div_ceil(lines)
                }
            };
            pieces.push(chars[start..end].iter().collect());
            start = end;
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_real() {
        let fonts = Fonts::load().unwrap();
        let narrow = fonts.width(Weight::Regular, "iiii", 10.0);
        let wide = fonts.width(Weight::Regular, "WWWW", 10.0);
        assert!(narrow > 0.0 && wide > narrow * 2.0, "{narrow} {wide}");
        assert!(fonts.width(Weight::Bold, "Report", 10.0) > fonts.width(Weight::Regular, "Report", 10.0));
    }

    #[test]
    fn wrapping_never_loses_or_overflows_text() {
        let fonts = Fonts::load().unwrap();
        let hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let text = format!("evidence {hash} was collected from the GitHub API");
        let lines = fonts.wrap(Weight::Regular, &text, 9.0, 120.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(fonts.width(Weight::Regular, line, 9.0) <= 120.0, "{line}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_subset_keeps_the_metrics_and_drops_the_rest() {
        let fonts = Fonts::load().unwrap();
        let face = fonts.face(Weight::Regular);
        let chars: BTreeSet<char> = "Page 1 of 2 — Ünïcödé".chars().collect();
        let subset = face.subset(&chars).unwrap();
        for c in &chars {
            let full = face.parsed.lookup_glyph_index(*c as u32).and_then(|g| face.parsed.get_glyph_width(g));
            let small = subset.lookup_glyph_index(*c as u32).and_then(|g| subset.get_glyph_width(g));
            assert_eq!(full, small, "{c:?}");
        }
        assert!(subset.lookup_glyph_index('Z' as u32).is_none());
    }

    #[test]
    fn long_words_break_at_natural_points_or_evenly() {
        let fonts = Fonts::load().unwrap();
        let lines = fonts.wrap(Weight::Regular, "acme-demo/payments-api@main", 9.0, 90.0);
        assert_eq!(lines[0], "acme-demo/");
        let hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let width = fonts.width(Weight::Regular, &hash[..40], 8.0);
        let halves = fonts.wrap(Weight::Regular, hash, 8.0, width);
        assert_eq!(halves.len(), 2);
        assert_eq!(halves[0].len(), 32);
    }
}
