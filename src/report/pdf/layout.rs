//! A small page-layout engine over printpdf's drawing operations: flowing text, wrapped table cells,
//! tables that break across pages with their header repeated, running header and "page X of Y".

use printpdf::{
    Color, LinePoint, Mm, Op, PaintMode, PdfPage, Point, Polygon, PolygonRing, Pt, Rect, Rgb, TextItem, WindingOrder,
};

use super::font::{Fonts, Weight};

/// An RGB colour, 0–1 per channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb3(pub f32, pub f32, pub f32);

/// Body text colour.
pub const INK: Rgb3 = Rgb3(0.11, 0.14, 0.19);
/// Secondary text colour.
pub const MUTED: Rgb3 = Rgb3(0.36, 0.39, 0.46);
/// Rule and border colour.
pub const LINE: Rgb3 = Rgb3(0.85, 0.86, 0.89);
/// Table header background.
pub const HEADER_BG: Rgb3 = Rgb3(0.95, 0.96, 0.97);

/// Page dimensions in points.
#[derive(Debug, Clone, Copy)]
pub struct PageSize {
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl PageSize {
    /// ISO A4.
    pub const A4: PageSize = PageSize { width: 595.28, height: 841.89 };
    /// US Letter.
    pub const LETTER: PageSize = PageSize { width: 612.0, height: 792.0 };
}

const MARGIN_X: f32 = 48.0;
const MARGIN_TOP: f32 = 64.0;
const MARGIN_BOTTOM: f32 = 56.0;
const CELL_PAD: f32 = 3.5;

/// A table column: its title and its share of the text width.
pub struct Column<'a> {
    /// Header text.
    pub title: &'a str,
    /// Share of the width (the shares of a table add up to 1).
    pub share: f32,
}

/// One table cell.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Its text (wrapped to the column).
    pub text: String,
    /// Weight of the text.
    pub weight: Weight,
    /// Text colour.
    pub color: Rgb3,
    /// Background fill, if any.
    pub fill: Option<Rgb3>,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), weight: Weight::Regular, color: INK, fill: None }
    }

    /// A bold cell.
    pub fn bold(text: impl Into<String>) -> Cell {
        Cell { weight: Weight::Bold, ..Cell::plain(text) }
    }

    /// A label on a coloured background (status, severity): colour never stands alone.
    pub fn badge(text: impl Into<String>, color: Rgb3, fill: Rgb3) -> Cell {
        Cell { text: text.into(), weight: Weight::Bold, color, fill: Some(fill) }
    }
}

/// The document being laid out.
pub struct Layout<'f> {
    fonts: &'f Fonts,
    size: PageSize,
    pages: Vec<Vec<Op>>,
    y: f32,
    bookmarks: Vec<(String, usize)>,
}

fn color(rgb: Rgb3) -> Color {
    Color::Rgb(Rgb { r: rgb.0, g: rgb.1, b: rgb.2, icc_profile: None })
}

impl<'f> Layout<'f> {
    /// Starts a document with one empty page.
    pub fn new(fonts: &'f Fonts, size: PageSize) -> Layout<'f> {
        let mut layout = Layout { fonts, size, pages: Vec::new(), y: 0.0, bookmarks: Vec::new() };
        layout.new_page();
        layout
    }

    /// The usable text width.
    pub fn text_width(&self) -> f32 {
        self.size.width - 2.0 * MARGIN_X
    }

    /// Starts a new page.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.size.height - MARGIN_TOP;
    }

    /// Moves down by `points`.
    pub fn space(&mut self, points: f32) {
        self.y -= points;
    }

    /// Starts a new page unless `height` points still fit on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM {
            self.new_page();
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page exists")
    }

    /// Draws one line of text with its baseline at `baseline`.
    pub fn text_at(&mut self, x: f32, baseline: f32, text: &str, weight: Weight, size: f32, rgb: Rgb3) {
        let ops = text_ops(self.fonts, x, baseline, text, weight, size, rgb);
        self.ops().extend(ops);
    }

    /// Fills a rectangle given its bottom-left corner.
    pub fn rect(&mut self, x: f32, bottom: f32, width: f32, height: f32, rgb: Rgb3) {
        self.ops().extend(rect_ops(x, bottom, width, height, rgb));
    }

    /// A section heading, wrapped; level 1 headings start a bookmark and a rule.
    pub fn heading(&mut self, text: &str, level: u8) {
        let size = if level == 1 { 16.0 } else { 12.0 };
        let lines = self.fonts.wrap(Weight::Bold, text, size, self.text_width());
        self.ensure(size * 1.4 * lines.len() as f32 + if level == 1 { 110.0 } else { 60.0 });
        self.space(if level == 1 { 10.0 } else { 8.0 });
        if level == 1 {
            self.bookmarks.push((text.to_string(), self.pages.len()));
        }
        for line in &lines {
            self.space(size * 1.25);
            self.text_at(MARGIN_X, self.y, line, Weight::Bold, size, INK);
        }
        self.space(size * 0.5);
        if level == 1 {
            let width = self.text_width();
            self.rect(MARGIN_X, self.y, width, 1.2, INK);
            self.space(6.0);
        }
    }

    /// One line of a table of contents: the title, a dotted leader, and the page number flush right.
    pub fn contents_line(&mut self, title: &str, page: usize, size: f32) {
        let leading = size * 1.7;
        self.ensure(leading);
        self.space(leading);
        let number = page.to_string();
        let right = self.size.width - MARGIN_X;
        let number_width = self.fonts.width(Weight::Regular, &number, size);
        let title_width = self.fonts.width(Weight::Regular, title, size);
        let dot_width = self.fonts.width(Weight::Regular, ".", size).max(0.1);
        let gap = right - number_width - MARGIN_X - title_width - 2.0 * size;
        let dots = ".".repeat((gap / dot_width).max(0.0) as usize);
        self.text_at(MARGIN_X, self.y, title, Weight::Regular, size, INK);
        self.text_at(MARGIN_X + title_width + size, self.y, &dots, Weight::Regular, size, MUTED);
        self.text_at(right - number_width, self.y, &number, Weight::Regular, size, INK);
    }

    /// The level-1 headings so far, with their (1-based) pages.
    pub fn bookmarks(&self) -> &[(String, usize)] {
        &self.bookmarks
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, weight: Weight, size: f32, rgb: Rgb3) {
        let leading = size * 1.35;
        for line in self.fonts.wrap(weight, text, size, self.text_width()) {
            self.ensure(leading);
            self.space(leading);
            self.text_at(MARGIN_X, self.y + size * 0.3, &line, weight, size, rgb);
        }
        self.space(size * 0.5);
    }

    /// A table with wrapped cells; rows never split, and the header repeats on every page.
    pub fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<Cell>], size: f32) {
        let widths = self.column_widths(columns, size);
        let leading = size * 1.3;
        let header: Vec<Cell> = columns.iter().map(|c| Cell { fill: Some(HEADER_BG), ..Cell::bold(c.title) }).collect();
        let header_height = self.row_height(&header, &widths, size, leading);
        // The header never stands alone at a page's foot: it keeps at least the first row with it.
        let first_row =
            rows.first().map_or(leading + 2.0 * CELL_PAD, |row| self.row_height(row, &widths, size, leading));
        self.ensure(header_height + first_row);
        self.draw_row(&header, &widths, size, leading);
        for row in rows {
            let height = self.row_height(row, &widths, size, leading);
            if self.y - height < MARGIN_BOTTOM {
                self.new_page();
                self.draw_row(&header, &widths, size, leading);
            }
            self.draw_row(row, &widths, size, leading);
        }
        self.space(8.0);
    }

    /// Column widths from their shares, widened so no header word is split (taken from the widest column).
    fn column_widths(&self, columns: &[Column<'_>], size: f32) -> Vec<f32> {
        let total = self.text_width();
        let mut widths: Vec<f32> = columns.iter().map(|c| c.share * total).collect();
        for (index, column) in columns.iter().enumerate() {
            let needed = column
                .title
                .split_whitespace()
                .map(|word| self.fonts.width(Weight::Bold, word, size))
                .fold(0.0, f32::max)
                + 2.0 * CELL_PAD
                + 1.0;
            let deficit = needed - widths[index];
            if deficit > 0.0 {
                let widest =
                    (0..widths.len()).filter(|&other| other != index).max_by(|&a, &b| widths[a].total_cmp(&widths[b]));
                if let Some(widest) = widest {
                    widths[widest] -= deficit;
                    widths[index] += deficit;
                }
            }
        }
        widths
    }

    fn cell_lines(&self, cell: &Cell, width: f32, size: f32) -> Vec<String> {
        let inner = width - 2.0 * CELL_PAD - if cell.fill.is_some() { 4.0 } else { 0.0 };
        self.fonts.wrap(cell.weight, &cell.text, size, inner.max(8.0))
    }

    fn row_height(&self, row: &[Cell], widths: &[f32], size: f32, leading: f32) -> f32 {
        let lines =
            row.iter().zip(widths).map(|(cell, width)| self.cell_lines(cell, *width, size).len()).max().unwrap_or(1);
        lines as f32 * leading + 2.0 * CELL_PAD
    }

    fn draw_row(&mut self, row: &[Cell], widths: &[f32], size: f32, leading: f32) {
        let height = self.row_height(row, widths, size, leading);
        let top = self.y;
        let mut x = MARGIN_X;
        for (cell, width) in row.iter().zip(widths) {
            let lines = self.cell_lines(cell, *width, size);
            if let Some(fill) = cell.fill {
                if cell.weight == Weight::Bold && cell.color != INK {
                    let text_width = lines.iter().map(|l| self.fonts.width(cell.weight, l, size)).fold(0.0, f32::max);
                    let box_height = lines.len() as f32 * leading;
                    self.rect(x + CELL_PAD, top - CELL_PAD - box_height, text_width + 4.0, box_height, fill);
                } else {
                    self.rect(x, top - height, *width, height, fill);
                }
            }
            let text_x = x + CELL_PAD + if cell.fill.is_some() && cell.color != INK { 2.0 } else { 0.0 };
            for (index, line) in lines.iter().enumerate() {
                let baseline = top - CELL_PAD - leading * (index as f32 + 1.0) + (leading - size) * 0.5 + size * 0.2;
                self.text_at(text_x, baseline, line, cell.weight, size, cell.color);
            }
            x += width;
        }
        self.y = top - height;
        let total: f32 = widths.iter().sum();
        self.rect(MARGIN_X, self.y - 0.3, total, 0.6, LINE);
    }

    /// Draws a stacked horizontal bar of (fraction, colour) segments.
    pub fn stacked_bar(&mut self, segments: &[(f32, Rgb3)], height: f32) {
        self.ensure(height + 4.0);
        self.space(height);
        let width = self.text_width();
        self.rect(MARGIN_X, self.y, width, height, LINE);
        let mut x = MARGIN_X;
        for (fraction, rgb) in segments {
            let segment = width * fraction.clamp(0.0, 1.0);
            if segment > 0.0 {
                self.rect(x, self.y, segment, height, *rgb);
            }
            x += segment;
        }
        self.space(4.0);
    }

    /// A donut chart of (fraction, colour, legend) segments, drawn as vector annular sectors clockwise from the top,
    /// with `center` written in the hole and the legend (colour swatch and words, never colour alone) to its right.
    pub fn donut(&mut self, segments: &[(f32, Rgb3, String)], diameter: f32, center: &str) {
        let legend_height = segments.len() as f32 * 14.0;
        let height = diameter.max(legend_height);
        self.ensure(height + 8.0);
        self.space(height);
        let (radius, inner) = (diameter / 2.0, diameter / 2.0 * 0.62);
        let (cx, cy) = (MARGIN_X + radius, self.y + height - radius);
        let mut start = 0.0f32;
        for (fraction, rgb, _) in segments {
            let end = start + fraction.clamp(0.0, 1.0);
            if end > start {
                let steps = ((end - start) * 120.0).ceil().max(2.0) as usize;
                let angle = |t: f32| std::f32::consts::FRAC_PI_2 - t * std::f32::consts::TAU;
                let point = |r: f32, t: f32| LinePoint {
                    p: Point { x: Pt(cx + r * angle(t).cos()), y: Pt(cy + r * angle(t).sin()) },
                    bezier: false,
                };
                let mut points: Vec<LinePoint> =
                    (0..=steps).map(|i| point(radius, start + (end - start) * i as f32 / steps as f32)).collect();
                points.extend((0..=steps).rev().map(|i| point(inner, start + (end - start) * i as f32 / steps as f32)));
                let polygon = Polygon {
                    rings: vec![PolygonRing { points }],
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                };
                self.ops().extend([Op::SetFillColor { col: color(*rgb) }, Op::DrawPolygon { polygon }]);
            }
            start = end;
        }
        let center_width = self.fonts.width(Weight::Bold, center, 14.0);
        self.text_at(cx - center_width / 2.0, cy - 5.0, center, Weight::Bold, 14.0, INK);
        let legend_x = MARGIN_X + diameter + 18.0;
        let mut baseline = self.y + height - 11.0;
        for (_, rgb, label) in segments {
            self.rect(legend_x, baseline - 1.0, 8.0, 8.0, *rgb);
            self.text_at(legend_x + 13.0, baseline, label, Weight::Regular, 9.0, INK);
            baseline -= 14.0;
        }
        self.space(6.0);
    }

    /// Finishes the document: adds the running header and "page X of Y" footer to every page.
    pub fn finish(self, header_left: &str, header_right: &str) -> (Vec<PdfPage>, Vec<(String, usize)>) {
        let total = self.pages.len();
        let PageSize { width, height } = self.size;
        let header_y = height - 34.0;
        let right_width = self.fonts.width(Weight::Regular, header_right, 8.0);
        let pages = self
            .pages
            .into_iter()
            .enumerate()
            .map(|(index, body)| {
                let page_label = format!("Page {} of {total}", index + 1);
                let label_width = self.fonts.width(Weight::Regular, &page_label, 8.0);
                let mut ops = text_ops(self.fonts, MARGIN_X, header_y, header_left, Weight::Regular, 8.0, MUTED);
                ops.extend(text_ops(
                    self.fonts,
                    width - MARGIN_X - right_width,
                    header_y,
                    header_right,
                    Weight::Regular,
                    8.0,
                    MUTED,
                ));
                ops.extend(rect_ops(MARGIN_X, header_y - 6.0, width - 2.0 * MARGIN_X, 0.6, LINE));
                ops.extend(text_ops(
                    self.fonts,
                    width - MARGIN_X - label_width,
                    30.0,
                    &page_label,
                    Weight::Regular,
                    8.0,
                    MUTED,
                ));
                ops.extend(body);
                PdfPage::new(Mm::from(Pt(width)), Mm::from(Pt(height)), ops)
            })
            .collect();
        (pages, self.bookmarks)
    }
}

/// The operations that draw one line of text.
fn text_ops(fonts: &Fonts, x: f32, baseline: f32, text: &str, weight: Weight, size: f32, rgb: Rgb3) -> Vec<Op> {
    vec![
        Op::StartTextSection,
        Op::SetFont { font: fonts.handle(weight), size: Pt(size) },
        Op::SetFillColor { col: color(rgb) },
        Op::SetTextCursor { pos: Point { x: Pt(x), y: Pt(baseline) } },
        Op::ShowText { items: vec![TextItem::Text(text.to_string())] },
        Op::EndTextSection,
    ]
}

/// The operations that fill a rectangle given its bottom-left corner.
fn rect_ops(x: f32, bottom: f32, width: f32, height: f32, rgb: Rgb3) -> Vec<Op> {
    let rectangle = Rect { mode: Some(PaintMode::Fill), ..Rect::from_xywh(Pt(x), Pt(bottom), Pt(width), Pt(height)) };
    vec![Op::SetFillColor { col: color(rgb) }, Op::DrawRectangle { rectangle }]
}
