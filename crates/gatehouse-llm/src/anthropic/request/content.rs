//! Image and file content parts → Anthropic `image` / `document` sources.
//!
//! - `data:` URLs become base64 sources; the media type must be one Anthropic accepts (images: jpeg, png, gif,
//!   webp; files: PDF) and the payload must be base64 (its bytes are not decoded here: Anthropic checks them).
//! - `https://` image URLs become URL sources; Anthropic fetches them.
//! - `http://` URLs are refused: the gateway does not fetch on a client's behalf (SSRF), and plain HTTP is never
//!   forwarded as a URL source. Any other scheme is refused too.
//! - Files by `file_id` are refused: there is no OpenAI Files API behind an Anthropic target.

use std::borrow::Cow;

use super::super::json::{CowStr, sub_cow, truncate};
use super::input::FileRef;
use super::output::Source;

/// Image media types Anthropic accepts (ASDK `Base64ImageSourceParam.media_type`).
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// An image part's URL → source.
pub(crate) fn image(url: CowStr<'_>) -> Result<Source<'_>, Cow<'static, str>> {
    if has_prefix(&url, "data:") {
        let (media, data) = data_url(url.0)?;
        let media_type = match media.to_ascii_lowercase().as_str() {
            // A frequent misspelling; the bytes are JPEG either way.
            "image/jpg" => "image/jpeg",
            m => IMAGE_TYPES.into_iter().find(|t| *t == m).ok_or_else(|| {
                Cow::Owned(format!(
                    "unsupported image type `{}`; use jpeg, png, gif or webp",
                    truncate(&media, 32)
                ))
            })?,
        };
        return Ok(Source::Base64 { media_type, data });
    }
    if has_prefix(&url, "https://") {
        return Ok(Source::Url { url: url.0 });
    }
    if has_prefix(&url, "http://") {
        return Err(Cow::Borrowed(
            "http image URLs are not allowed; use https or a data URL",
        ));
    }
    Err(Cow::Borrowed("image URLs must be https or data URLs"))
}

/// A file part → a PDF document source.
pub(crate) fn document(file: FileRef<'_>) -> Result<Source<'_>, Cow<'static, str>> {
    let Some(data) = file.file_data else {
        return Err(Cow::Borrowed(if file.file_id.is_some() {
            "`file_id` is not supported; send the file inline as `file_data`"
        } else {
            "file part without `file_data`"
        }));
    };
    if !has_prefix(&data, "data:") {
        return Err(Cow::Borrowed(
            "`file_data` must be a data URL (data:application/pdf;base64,...)",
        ));
    }
    let (media, data) = data_url(data.0)?;
    if !media.eq_ignore_ascii_case("application/pdf") {
        return Err(Cow::Owned(format!(
            "only PDF files are supported, not `{}`",
            truncate(&media, 32)
        )));
    }
    Ok(Source::Base64 {
        media_type: "application/pdf",
        data,
    })
}

/// Splits `data:<media>[;params];base64,<data>` into its media type and payload.
pub(crate) fn data_url(url: Cow<'_, str>) -> Result<(String, Cow<'_, str>), Cow<'static, str>> {
    let comma = url.find(',').ok_or(Cow::Borrowed("malformed data URL"))?;
    let header = url.get("data:".len()..comma).unwrap_or_default();
    let mut params = header.split(';');
    let media = params.next().unwrap_or_default().trim().to_owned();
    if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err(Cow::Borrowed("data URLs must be base64-encoded"));
    }
    if comma + 1 == url.len() {
        return Err(Cow::Borrowed("data URL has no data"));
    }
    let end = url.len();
    Ok((media, sub_cow(url, comma + 1, end)))
}

/// Case-insensitive ASCII prefix test (URL schemes are case-insensitive).
pub(crate) fn has_prefix(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}
