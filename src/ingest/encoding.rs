//! Text encodings of evidence files: UTF-8 (with or without a byte-order mark) is read as it is; UTF-16 and UTF-32
//! with a byte-order mark (as PowerShell and some Windows tools write JSON) are converted to UTF-8; anything else that
//! is not UTF-8 is refused with its encoding named, never parsed as garbage.

use std::borrow::Cow;

use anyhow::Result;

use crate::error::input_error;

/// The content as UTF-8 bytes.
pub fn to_utf8<'a>(bytes: &'a [u8], origin: &str) -> Result<Cow<'a, [u8]>> {
    // UTF-32 before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one.
    if let Some(body) = bytes.strip_prefix(&[0xff, 0xfe, 0x00, 0x00]) {
        return utf32(body, u32::from_le_bytes, "UTF-32LE", origin);
    }
    if let Some(body) = bytes.strip_prefix(&[0x00, 0x00, 0xfe, 0xff]) {
        return utf32(body, u32::from_be_bytes, "UTF-32BE", origin);
    }
    if let Some(body) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return utf16(body, u16::from_le_bytes, "UTF-16LE", origin);
    }
    if let Some(body) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return utf16(body, u16::from_be_bytes, "UTF-16BE", origin);
    }
    // Without a mark, text in UTF-16 has a zero byte beside nearly every ASCII one.
    let sample = &bytes[..bytes.len().min(512)];
    let zeros = sample.iter().filter(|byte| **byte == 0).count();
    if sample.len() >= 4 && zeros * 3 >= sample.len() {
        let guess = if sample[0] == 0 { "UTF-16BE or UTF-32BE" } else { "UTF-16LE or UTF-32LE" };
        return Err(input_error(format!(
            "{origin}: the text looks {guess} without a byte-order mark: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"
        )));
    }
    Ok(Cow::Borrowed(bytes))
}

fn utf16(body: &[u8], unit: fn([u8; 2]) -> u16, name: &str, origin: &str) -> Result<Cow<'static, [u8]>> {
    if !body.len().is_multiple_of(2) {
        return Err(input_error(format!("{origin}: {name} text with an odd number of bytes: the file is cut short")));
    }
    let units = body.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|error| input_error(format!("{origin}: invalid {name} text: {error}")))?;
    Ok(Cow::Owned(text.into_bytes()))
}

fn utf32(body: &[u8], unit: fn([u8; 4]) -> u32, name: &str, origin: &str) -> Result<Cow<'static, [u8]>> {
    if !body.len().is_multiple_of(4) {
        return Err(input_error(format!(
            "{origin}: {name} text whose length is not a multiple of 4: the file is cut short"
        )));
    }
    let text: String = body
        .chunks_exact(4)
        .enumerate()
        .map(|(index, quad)| {
            let code = unit([quad[0], quad[1], quad[2], quad[3]]);
            char::from_u32(code).ok_or_else(|| {
                input_error(format!(
                    "{origin}: invalid {name} text: {code:#x} at byte {} is not a character",
                    4 + index * 4
                ))
            })
        })
        .collect::<Result<_>>()?;
    Ok(Cow::Owned(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian { vec![0xfe, 0xff] } else { vec![0xff, 0xfe] };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn utf16_and_utf32_with_a_mark_become_utf8() {
        let text = r#"{"name": "café ☕ 😀"}"#;
        assert_eq!(to_utf8(&encode16(text, false), "f").unwrap().as_ref(), text.as_bytes());
        assert_eq!(to_utf8(&encode16(text, true), "f").unwrap().as_ref(), text.as_bytes());
        let mut le32 = vec![0xff, 0xfe, 0x00, 0x00];
        le32.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(to_utf8(&le32, "f").unwrap().as_ref(), text.as_bytes());
        let mut be32 = vec![0x00, 0x00, 0xfe, 0xff];
        be32.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes()));
        assert_eq!(to_utf8(&be32, "f").unwrap().as_ref(), text.as_bytes());
        assert!(matches!(to_utf8(text.as_bytes(), "f").unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn utf16_without_a_mark_is_named() {
        let bytes: Vec<u8> = r#"{"a": 1}"#.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let error = to_utf8(&bytes, "report.json").unwrap_err().to_string();
        assert!(error.contains("report.json") && error.contains("UTF-16LE"), "{error}");
        let broken = [0xff, 0xfe, 0x7b];
        assert!(to_utf8(&broken, "f").unwrap_err().to_string().contains("cut short"));
    }
}
