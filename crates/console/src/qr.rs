//! QR codes as inline SVG, drawn on the server: the authenticator URI never leaves the page
//! for a third-party image service, and the strict CSP needs no image source for it.

use qrcode::render::svg;
use qrcode::QrCode;

/// The SVG element of a QR code for `text`, without the XML declaration (it is inlined in
/// HTML); `None` when the text is too long for a QR code.
pub(crate) fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    // The accessible name of the image; `label` is ours, never user input, but escape it anyway.
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Some(image[start..].replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{label}\""),
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_inline_svg_with_a_name() {
        let out = svg("otpauth://totp/Tenantry:a@x.test?secret=ABC", "QR code").expect("fits");
        assert!(out.starts_with("<svg role=\"img\" aria-label=\"QR code\""));
        assert!(!out.contains("<?xml"));
        assert!(out.contains("</svg>"));
    }
}
